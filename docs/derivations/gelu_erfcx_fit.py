"""Coefficients of the exact-GELU polynomial in tensor-core's VecMath (a development aid, not
part of the build; needs numpy and scipy).

Phi(-a) = e^(-a^2/2) * t R(t) / 2 with t = 1/(1 + q a), q = float(1/(2 sqrt 2)). R(t) fits
erfcx(a / sqrt 2) / t over a in [0, 14.5] (t in [tmin, 1]) with a Lawson-reweighted Chebyshev
least-squares fit of the relative error, then converted to monomials and rounded to float.
Prints the max relative error of the fit in exact arithmetic (about 4e-8) and the coefficients.
"""
import numpy as np
from scipy.special import erfcx
qf = float(np.float32(0.5/np.sqrt(2)))
xmax = 14.5
d=8
tmin = 1/(1+qf*xmax)
N=6000
u = np.cos(np.pi*(np.arange(N)+0.5)/N)
t = (u+1)/2*(1-tmin)+tmin
ax = (1/t-1)/qf
g = erfcx(ax/np.sqrt(2))/t
s = (t-(1+tmin)/2)/((1-tmin)/2)
V = np.polynomial.chebyshev.chebvander(s, d)
w = np.ones(N)
for it in range(3000):
    A = V*(w/g)[:,None]
    c,*_ = np.linalg.lstsq(A, w, rcond=None)
    e = (V@c-g)/g
    w = w*np.abs(e)**0.3; w/=w.max()
print("lawson max rel", np.max(np.abs(e)))
mono = np.polynomial.Chebyshev(c, domain=[tmin,1]).convert(kind=np.polynomial.Polynomial).coef
print("qf", repr(np.float32(qf)))
print("coefs", ", ".join(repr(float(np.float32(x)))+"f" for x in mono))
