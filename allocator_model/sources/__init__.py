"""Where a node and its workload come from: the inputs that drive the kernel model.

``source`` is the one interface: a ``Source`` (the node to start from, the workload as
primitive operations, what it is) and one opener per kind of input.  Behind it: the
guest's operations (``workload``, ``Runner`` applies them), the built-in scenarios
(``builtin``) and the library (``scenario``, the JSON files in ``scenarios/``), kernel
page-allocation traces (``trace``, a sample in ``traces/``), a real machine's ``/proc``
text (``procfs``, ``fromproc``) and the live machine (``live``, ``kpageflags``).
Imports ``allocator_model.kernel``; never the other way round.
"""
