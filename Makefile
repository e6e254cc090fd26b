# atelier: developer and CI entry points. See README / SPEC.
#   make build | run | test | fuzz | bench | format | format-check | clean
# Variables: WERROR=ON|OFF, SANITIZE=ON|OFF (ASan+UBSan, builds in build-asan),
#            FUZZ_SECONDS (per harness), BUILD (build directory);
#            for test: ATELIER_TEST_WORKERS, ATELIER_TEST_PARALLEL (scripts/test.sh).

WERROR ?= OFF
SANITIZE ?= OFF
FUZZ_SECONDS ?= 30
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

ifeq ($(SANITIZE),ON)
BUILD ?= build-asan
else
BUILD ?= build
endif

FUZZ_BUILD := build-fuzz
FORMAT_FILES = $(wildcard src/*/*.c src/*/*.h include/*/*.h tools/*.c bench/*.c tests/unit/*.c tests/fuzz/*.c)

.PHONY: all deps build run test fuzz bench format format-check clean

all: build

deps:
	./scripts/deps.sh

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DATELIER_WERROR=$(WERROR) -DATELIER_SANITIZE=$(SANITIZE)
	cmake --build $(BUILD) -j $(JOBS) -- --no-print-directory

run: deps build
	exec ./$(BUILD)/atelier serve --listen 127.0.0.1:8080 --data ./data

test: deps build
	SANITIZE=$(SANITIZE) ./scripts/test.sh $(BUILD)

fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DCMAKE_C_COMPILER=clang -DATELIER_FUZZ=ON -DATELIER_WERROR=$(WERROR)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) -- --no-print-directory
	@set -eu; \
	scratch="$$(mktemp -d /tmp/atelier-fuzz.XXXXXX)"; \
	trap 'rm -rf "$$scratch"' EXIT; \
	names=""; \
	for src in tests/fuzz/fuzz_*.c; do \
	    [ -e "$$src" ] || continue; \
	    name="$$(basename "$$src" .c)"; \
	    [ -x "$(FUZZ_BUILD)/$$name" ] || { echo "fuzz: $(FUZZ_BUILD)/$$name was not built" >&2; exit 1; }; \
	    mkdir -p "$$scratch/$$name/corpus" "$$scratch/$$name/artifacts"; \
	    if [ -d "tests/fuzz/corpus/$$name" ]; then \
	        cp -R "tests/fuzz/corpus/$$name/." "$$scratch/$$name/corpus/"; \
	    fi; \
	    names="$$names $$name"; \
	done; \
	[ -n "$$names" ] || { echo "fuzz: no harness in tests/fuzz" >&2; exit 1; }; \
	found=0; running=0; \
	for name in $$names; do \
	    echo "== fuzz $$name for $(FUZZ_SECONDS) s"; \
	    ( rc=0; "$(FUZZ_BUILD)/$$name" -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 \
	        -rss_limit_mb=2048 -print_final_stats=1 \
	        -artifact_prefix="$$scratch/$$name/artifacts/" \
	        "$$scratch/$$name/corpus" > "$$scratch/$$name/log" 2>&1 || rc=$$?; \
	      echo "$$rc" > "$$scratch/$$name/rc" ) & \
	    found=$$((found + 1)); running=$$((running + 1)); \
	    if [ "$$running" -ge $(JOBS) ]; then wait; running=0; fi; \
	done; \
	wait; \
	failed=0; \
	for name in $$names; do \
	    if [ "$$(cat "$$scratch/$$name/rc" 2>/dev/null || echo 1)" != 0 ]; then \
	        tail -n 60 "$$scratch/$$name/log"; \
	        mkdir -p fuzz-out/$$name; \
	        cp -R "$$scratch/$$name/artifacts/." fuzz-out/$$name/ 2>/dev/null || true; \
	        echo "fuzz: $$name FAILED; crashing inputs copied to fuzz-out/$$name/" >&2; \
	        failed=1; \
	    else \
	        echo "== $$name:"; \
	        grep -E '^(Done|stat::number_of_executed_units|#[0-9]+.*DONE)' "$$scratch/$$name/log" || tail -n 3 "$$scratch/$$name/log"; \
	    fi; \
	done; \
	[ "$$failed" = 0 ] || exit 1; \
	echo "fuzz: $$found harness(es) ran $(FUZZ_SECONDS) s each without a crash, $(JOBS) at a time"

bench:
	./bench/run.sh

# With no file, clang-format would read standard input: guard against that.
format:
	@test -n "$(strip $(FORMAT_FILES))" || { echo "format: no source files" >&2; exit 1; }
	clang-format -i $(FORMAT_FILES)

format-check:
	@test -n "$(strip $(FORMAT_FILES))" || { echo "format-check: no source files" >&2; exit 1; }
	clang-format --dry-run -Werror $(FORMAT_FILES)
	@echo "format-check: $(words $(FORMAT_FILES)) files are formatted"

clean:
	rm -rf build build-asan build-fuzz fuzz-out $(BUILD)
