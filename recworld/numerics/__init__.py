"""The bottom floor: numerics every other package shares, importing nothing of recworld's.

* `recworld.numerics.counter`: counter-based random draws, a pure function of (seed, stream, step,
  draw), the environments' randomness on every backend;
* `recworld.numerics.factorization`: biased matrix factorisation (ALS), fold-in of a new user, and the
  empirical-Bayes prior over users that makes fold-in Bayes-consistent with a world drawn from it;
* `recworld.numerics.metrics`: ranking and rating metrics (nDCG, RMSE, MAE);
* `recworld.numerics.normal`: the standard normal CDF for compiled code (a table, within 5e-8);
* `recworld.numerics.statistics`: bootstrap intervals, IQM and probability of improvement, for the
  benchmark, the meta-model evaluation and the fidelity report.
"""
