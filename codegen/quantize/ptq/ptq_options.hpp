// codegen/quantize/ptq/ptq_options.hpp — which post-training methods run and their settings
// (ptq.hpp), apart so that the CLI and generate.hpp need not see Eigen.
#pragma once

#include <cstddef>

#include "codegen/calib/progress_bar.hpp"

namespace statiq::codegen::ptq {

// weight_scale_search.hpp: what the scale of each weight group minimises.
enum class ScaleSearch { off, weight_error, output_error };

// bias_correction.hpp: the mean shift removed is the weights' alone (Nagel et al.'s bias correction,
// on the quantized upstream), or the layer's whole mean error against the float model.
enum class BiasReference { quantized_input, float_input };

struct AdaRoundOptions {
  int iterations = 1000;         // Adam steps per layer (the time bound: each costs O(C K^2))
  double regularization = 0.01;  // lambda, against the output error normalised to 1 at nearest rounding
  double learning_rate = 0.05;
  double warmup = 0.2;           // the fraction of steps without the regulariser
};

struct PtqOptions {
  bool cross_layer_equalization = false;  // cross_layer_equalization.hpp (on the float graph, before calibration)
  bool activation_range_search = false;  // activation_range_search.hpp (calibration samples)
  ScaleSearch weight_scale_search = ScaleSearch::off;
  bool bias_correction = false;
  BiasReference bias_reference = BiasReference::quantized_input;
  bool adaround = false;
  AdaRoundOptions adaround_options;
  std::size_t max_samples = 256;     // calibration samples the data-driven methods read (0: all)
  std::size_t max_patches = 256;     // patch positions per sample and layer
  calib::ProgressBar::Mode progress = calib::ProgressBar::Mode::automatic;

  bool any() const {
    return cross_layer_equalization || activation_range_search || weight_scale_search != ScaleSearch::off ||
           bias_correction || adaround;
  }
  bool needs_data() const { return weight_scale_search == ScaleSearch::output_error || bias_correction || adaround; }
};

}  // namespace statiq::codegen::ptq
