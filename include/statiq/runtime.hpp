// statiq/runtime.hpp — what an engine needs to be defined and run: core vocabulary, arithmetic
// profiles, quantizers, layers, targets and the graph; no fmt, no exceptions thrown, no heap, so
// it compiles for a microcontroller (-fno-exceptions, newlib-nano). Generated engines include it.
#pragma once

#include "statiq/core/activation.hpp"
#include "statiq/core/bits.hpp"
#include "statiq/core/diagnostics.hpp"
#include "statiq/core/fixed_string.hpp"
#include "statiq/core/packed.hpp"
#include "statiq/core/pads.hpp"
#include "statiq/core/pool.hpp"
#include "statiq/core/qint.hpp"
#include "statiq/core/shape.hpp"

#include "statiq/arith/akida_v1.hpp"
#include "statiq/arith/gemmini.hpp"
#include "statiq/arith/pow2.hpp"
#include "statiq/arith/qlinear.hpp"
#include "statiq/arith/tflite.hpp"

#include "statiq/layers/add.hpp"
#include "statiq/layers/average_pool.hpp"
#include "statiq/layers/concat.hpp"
#include "statiq/layers/conv2d.hpp"
#include "statiq/layers/dense.hpp"
#include "statiq/layers/depthwise_conv2d.hpp"
#include "statiq/layers/dequantize.hpp"
#include "statiq/layers/dynamic.hpp"
#include "statiq/layers/global_average_pool.hpp"
#include "statiq/layers/input_conv2d.hpp"
#include "statiq/layers/lookup_table.hpp"
#include "statiq/layers/max_pool.hpp"
#include "statiq/layers/copy.hpp"
#include "statiq/layers/elementwise.hpp"
#include "statiq/layers/quantize.hpp"

#include "statiq/targets/akida_v1.hpp"
#include "statiq/targets/akida_v2.hpp"
#include "statiq/targets/boards.hpp"
#include "statiq/targets/cpu_int8.hpp"
#include "statiq/targets/gemmini.hpp"
#include "statiq/targets/host.hpp"
#include "statiq/targets/target_list.hpp"
#include "statiq/targets/tflite_int8.hpp"
#include "statiq/targets/tflite_int8_x86.hpp"

#include "statiq/engine/graph.hpp"
