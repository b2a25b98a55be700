// statiq/core/activation.hpp — the activation fused into a layer. Only the kind is part of
// the type; the clip bound is a quantized number carried with the layer's output parameters.
#pragma once

namespace statiq {

enum class ActivationKind { none, relu, clipped_relu };

struct Activation {
  ActivationKind kind = ActivationKind::none;
  constexpr bool operator==(const Activation&) const = default;
};

inline constexpr Activation no_activation{ActivationKind::none};
inline constexpr Activation relu{ActivationKind::relu};
inline constexpr Activation clipped_relu{ActivationKind::clipped_relu};

}  // namespace statiq
