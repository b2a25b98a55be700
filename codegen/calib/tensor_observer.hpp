// codegen/calib/tensor_observer.hpp — the calibration observer interface (observe tensors by name,
// then ask each one's range) and MinMaxObserver, the exact running minimum and maximum.
#pragma once

#include "codegen/calib/range.hpp"

#include <map>
#include <span>
#include <string>
#include <vector>

#include "codegen/exec/array.hpp"

namespace statiq::codegen::calib {

// The float range a tensor is quantized over.
using codegen::Range;  // one definition for calibration and quantization

// Observers see every value of every tensor of every calibration sample, possibly over several
// passes over the whole set (passes()): histogram methods first learn each tensor's extent, then
// histogram it with bins fixed from that extent, which is what onnxruntime's calibrate.py does when
// it collects all samples at once (its default). calibrate() drives the passes.
class TensorObserver {
 public:
  virtual ~TensorObserver() = default;

  // How many times the calibration data must be fed.
  virtual int passes() const { return 1; }
  // Starts pass `pass` (0, then 1, ...; pass 0 is current after construction).
  void begin_pass(int pass);
  int pass() const { return pass_; }

  void observe(const std::string& name, std::span<const float> values) { on_observe(name, values); }
  // Float tensors only (throws for the int64 shape tensors the executor also produces).
  void observe(const std::string& name, const exec::Array& tensor);

  // The range chosen for a tensor; throws if the tensor was never observed (or, for multi-pass
  // observers, if the passes are not complete).
  virtual Range range(const std::string& name) const = 0;
  // Every tensor observed so far, sorted.
  virtual std::vector<std::string> tensor_names() const = 0;

 protected:
  virtual void on_observe(const std::string& name, std::span<const float> values) = 0;
  virtual void on_begin_pass(int /*pass*/) {}

 private:
  int pass_ = 0;
};

// min and max over everything observed (onnxruntime's MinMaxCalibrater without moving average or
// symmetric option: the quantizer decides symmetry). A tensor observed only empty gets {0, 0}.
class MinMaxObserver final : public TensorObserver {
 public:
  Range range(const std::string& name) const override;
  std::vector<std::string> tensor_names() const override;
  // Folds in what `later` observed as if its tensors had been observed here after everything so
  // far: samples observed separately (on threads) and merged in sample order give the same ranges.
  void merge(const MinMaxObserver& later);

 protected:
  void on_observe(const std::string& name, std::span<const float> values) override;

 private:
  struct Stat {
    bool any = false;
    Range r;
  };
  std::map<std::string, Stat> stats_;
};

}  // namespace statiq::codegen::calib
