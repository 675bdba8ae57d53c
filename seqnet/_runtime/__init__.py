"""seqnet's plumbing, private: which kernel backend runs (``backend``), how
many threads it gets and who owns them (``threads``), the allocator
settings of long fits (``malloc``), and docstrings filled from shared pieces
(``docstrings``).  Users reach it through the estimators'
``device`` parameter and ``seqnet.set_num_threads`` / ``seqnet.threads``.
"""
