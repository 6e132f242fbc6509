# The two commands of the README: `make demo` runs the main job, `make test` runs the tests.
# Both install what they need first (scripts/setup.sh is idempotent).
.PHONY: setup test demo

setup:
	bash scripts/setup.sh

test: setup
	bash scripts/ensure-postgres.sh
	uv run --frozen pytest $(PYTEST_ARGS)

demo: setup
	bash scripts/demo.sh
