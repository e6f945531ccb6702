"""Activation functions f_s / f_o, with derivatives written from the *output*.

Each entry is ``(f(xp, a), f_prime_from_output(xp, y))`` where ``y = f(a)``, so
the backward pass needs only the stored states, never the pre-activations.
"""

from __future__ import annotations


def _tanh(xp, a):
    return xp.tanh(a)


def _tanh_prime(xp, y):
    return 1.0 - y * y  # d tanh(a)/da = 1 - tanh(a)^2


def _sigmoid(xp, a):
    return 0.5 * (xp.tanh(0.5 * a) + 1.0)  # = 1 / (1 + exp(-a)), without overflow


def _sigmoid_prime(xp, y):
    return y * (1.0 - y)


def _relu(xp, a):
    return xp.where(a > 0, a, xp.zeros_like(a))


def _relu_prime(xp, y):
    return xp.astype(y > 0, y.dtype)


def _identity(xp, a):
    return a


def _identity_prime(xp, y):
    return xp.ones_like(y)


ACTIVATIONS = {
    "tanh": (_tanh, _tanh_prime),
    "relu": (_relu, _relu_prime),
    "sigmoid": (_sigmoid, _sigmoid_prime),
    "identity": (_identity, _identity_prime),
}


def get(name: str):
    """``(f, f_prime_from_output)`` for an activation name; ValueError names the choices."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"activation={name!r} is not known; choose one of {sorted(ACTIVATIONS)}"
        ) from None
