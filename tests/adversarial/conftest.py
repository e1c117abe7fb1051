"""The adversarial suite: one attack per budget of docs/security.md#budgets, each beside a
healthy client (tests/adversarial/harness.py). `ADVERSARIAL_SCALE=long` makes the attacks ten
times bigger; the fixtures are the suite's own (tests/conftest.py: `make_server`)."""
