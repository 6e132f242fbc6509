"""The ground layer: configuration, vocabulary, units, person key, the canonical row contract,
the rule catalogue, run ids and run paths.

It imports nothing of the project (tests/test_layers.py holds it to that): every other package
may build on it, and it can be read, tested and reasoned about alone."""
