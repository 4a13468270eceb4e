"""Where a node and its workload come from: the inputs that drive the kernel model.

Workloads (``workload``: the guest's operations, ``Runner`` applies them), the scenario
library (``scenario`` and the JSON files in ``scenarios/``), kernel page-allocation traces
(``trace``, a sample in ``traces/``), a real machine's ``/proc`` text (``procfs``,
``fromproc``) and the live machine itself (``live``, ``kpageflags``).  Imports
``allocator_model.kernel``; never the other way round.
"""
