"""Coefficients of the exact-GELU rational function in tensor-core's VecMath (a development aid, not
part of the build; needs numpy and scipy).

Phi(-a) = e^(-a^2/2) * N(a) / D(a) / 2 for a = |x| in [0, 14.5], where N/D (degrees 4 and 5,
N(0) = D(0) = 1) fits erfcx(a / sqrt 2) in relative error. The fit is a Sanathanan-Koerner
iteration (linear least squares on N - g D, reweighted by the previous D) with Lawson weights
that push the worst relative error down, in the variable s = a / 7.25 for conditioning; the
result is converted to powers of a and rounded to float. Every coefficient comes out positive,
so N and D evaluate in float without cancellation.

Prints the max relative error in exact arithmetic before and after rounding to float (about
6e-9 and 2.1e-8) and the coefficients as Java float literals.
"""
import numpy as np
from scipy.special import erfcx

NUM_DEG, DEN_DEG = 4, 5
A_MAX = 14.5
SCALE = A_MAX / 2
NODES = 8000

u = np.cos(np.pi * (np.arange(NODES) + 0.5) / NODES)
a = (u + 1) / 2 * A_MAX
g = erfcx(a / np.sqrt(2))
s = a / SCALE

num_cols = np.vander(s, NUM_DEG + 1, increasing=True)
den_cols = np.vander(s, DEN_DEG + 1, increasing=True)[:, 1:]  # D(0) = 1
prev_den = np.ones(NODES)
weights = np.ones(NODES)
for _ in range(40):
    design = np.hstack([num_cols, -g[:, None] * den_cols]) / (g * prev_den)[:, None] * weights[:, None]
    target = weights / prev_den
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    num = coef[:NUM_DEG + 1]
    den = np.concatenate([[1.0], coef[NUM_DEG + 1:]])
    prev_den = np.polyval(den[::-1], s)
    rel = np.polyval(num[::-1], s) / prev_den / g - 1
    weights = weights * np.abs(rel) ** 0.2 + 1e-300
    weights /= weights.max()

num_a = np.array([c / SCALE ** i for i, c in enumerate(num)])
den_a = np.array([c / SCALE ** i for i, c in enumerate(den)])

grid = np.linspace(0, A_MAX, 200001)
ref = erfcx(grid / np.sqrt(2))


def max_rel(n, d):
    return np.max(np.abs(np.polyval(n[::-1], grid) / np.polyval(d[::-1], grid) / ref - 1))


num_f = num_a.astype(np.float32)
den_f = den_a.astype(np.float32)
print("max rel error, double coefficients:", max_rel(num_a, den_a))
print("max rel error, float coefficients: ", max_rel(num_f.astype(np.float64), den_f.astype(np.float64)))
print("N:", ", ".join(repr(float(c)) + "f" for c in num_f))
print("D:", ", ".join(repr(float(c)) + "f" for c in den_f))
