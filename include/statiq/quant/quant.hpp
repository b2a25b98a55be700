// statiq/quant/quant.hpp — all of statiq's host-side quantizers: weight quantizers (akida_v1,
// pow2, tflite) and activation parameters from calibrated ranges (qlinear, tflite, pow2).
#pragma once

#include "statiq/quant/activation_params.hpp"
#include "statiq/quant/max_per_axis_quantizer.hpp"
#include "statiq/quant/max_quantizer.hpp"
#include "statiq/quant/pow2_weights.hpp"
#include "statiq/quant/quantized_weights.hpp"
#include "statiq/quant/std_per_axis_quantizer.hpp"
#include "statiq/quant/std_quantizer.hpp"
#include "statiq/quant/tflite_weights.hpp"
#include "statiq/quant/weight_quantizer.hpp"
