"""`python -m bench`: the benchmark of the hub against the servers people would pick instead."""
