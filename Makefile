# The two commands of the README:
#   make run   installs what is missing, builds, and runs the main job
#   make test  the same set-up, then every test: release, ASan+UBSan, fuzz smoke
SHELL := /bin/bash
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: run test deps build build-asan build-fuzz bench fuzz clean

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build build -j $(JOBS)

# clang: with ASan+UBSan at -O0 it compiles the suite in half g++'s time.
# Baseline x86-64, so the scanners' run-time SSE4.2 check is tested too.
build-asan: deps
	@CXX=clang++-14 cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DIMSFLOW_SANITIZE=ON -DIMSFLOW_BENCH=OFF -DIMSFLOW_X86_64_V2=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build build-asan -j $(JOBS)

build-fuzz: deps
	@CXX=clang++-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIMSFLOW_FUZZ=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build build-fuzz -j $(JOBS)

# The main job: two UEs register with IMS AKA and call across P-CSCF,
# S-CSCF, P-CSCF on loopback sockets; the ladder, phases and verdict.
run: build
	./build/imsflow demo

# Sanitizer run and 30 s per fuzz target first; the release suite last, so the
# output ends with ctest's summary.
test: build build-asan build-fuzz
	@echo "== ASan+UBSan suite (build-asan)"
	@cd build-asan && ctest --output-on-failure -j $(JOBS)
	@echo "== fuzz smoke, 30 s per target (build-fuzz)"
	@cd build-fuzz && ctest --output-on-failure -j $(JOBS)
	@echo "== release suite (build)"
	@cd build && ctest --output-on-failure -j $(JOBS)

bench: build
	./build/imsflow-bench --benchmark_min_time=0.5

# Long fuzz run: make fuzz FUZZ_SECONDS=600
FUZZ_SECONDS ?= 600
fuzz: build-fuzz
	@for t in build-fuzz/fuzz/fuzz_*; do \
	  name=$$(basename $$t); mkdir -p fuzz/corpus-$$name; \
	  echo "== $$name for $(FUZZ_SECONDS) s"; \
	  $$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 fuzz/corpus-$$name fuzz/seeds || exit 1; \
	done

clean:
	rm -rf build build-asan build-fuzz
