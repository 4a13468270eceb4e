"""What one does with a node and a workload: compare strategies, quiz, benchmark the model.

``compare`` runs one workload under every strategy, ``quiz`` asks about the next step
and reads the answer from a dry run, ``bench`` measures the model's speed and size.
Built on ``allocator_model.kernel`` and ``allocator_model.sources``.
"""
