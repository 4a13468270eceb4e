"""The kernel model: ``mm/page_alloc.c`` and its neighbours, one module per kernel concern.

A node of zones (``node``, ``zone``), the free lists (``freelist``), the per-cpu lists
(``pcp``), the watermarks (``watermarks``), free page hinting v2 and free page reporting
(``hinting_v2``, ``reporting``, behind ``strategy``), the host that backs guest memory
(``host``), and what they share: the kernel's constants and rule sets (``config``,
``assumptions``), page states and flags (``pagestate``, ``pageflags``), events, errors,
invariants and the vmstat indices (``fragmentation``).  Nothing here knows where a node's
starting state or its workload comes from: that is ``allocator_model.sources``.
"""
