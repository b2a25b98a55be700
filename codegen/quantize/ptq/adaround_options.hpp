// codegen/quantize/ptq/adaround_options.hpp — AdaRound's settings (adaround.hpp), apart so that
// the CLI and ptq.hpp need not see Eigen.
#pragma once

namespace statiq::codegen::ptq {

struct AdaRoundOptions {
  int iterations = 1000;         // Adam steps per layer (the time bound: each costs O(C K^2))
  double regularization = 0.01;  // lambda, against the output error normalised to 1 at nearest rounding
  double learning_rate = 0.05;
  double warmup = 0.2;           // the fraction of steps without the regulariser
};

}  // namespace statiq::codegen::ptq
