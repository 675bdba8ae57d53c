"""seqnet's plumbing, private: which kernel backend runs (``backend``), how
many threads it gets and who owns them (``threads``), and the allocator
settings of long fits (``malloc``).  Users reach it through the estimators'
``device`` parameter and ``seqnet.set_num_threads`` / ``seqnet.threads``.
"""
