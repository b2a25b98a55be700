// statiq/statiq.hpp — the whole library: the runtime (statiq/runtime.hpp: everything an engine
// needs) plus the host-side text tools, summary<Model>() and describe(Violation), which need fmt.
#pragma once

#include "statiq/runtime.hpp"

#include "statiq/engine/summary.hpp"
#include "statiq/targets/describe.hpp"
