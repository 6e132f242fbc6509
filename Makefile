# The two commands of the README: `make demo` runs the main job, `make test` runs the tests.
# Both install what they need first (scripts/setup.sh is idempotent).
.PHONY: setup test test-stack demo

setup:
	bash scripts/setup.sh

test: setup
	bash scripts/ensure-postgres.sh
	uv run --frozen pytest $(PYTEST_ARGS)

# The production image and compose stack built, started and run for a night (tests/dags/
# test_docker_stack.py): minutes and gigabytes, so not part of `make test`.
test-stack: setup
	DEFLECT_STACK_TEST=1 uv run --frozen pytest tests/dags/test_docker_stack.py $(PYTEST_ARGS)

demo: setup
	bash scripts/demo.sh
