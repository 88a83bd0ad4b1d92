"""Optuna's TPE on Branin and Hartmann-6 (the same functions as bench/tuner.bench.ts).

Usage: /usr/bin/python3 bench/python/optuna_tpe.py <seeds> <trials>
Prints JSON: {"optuna": version, "functions": [{"name", "regrets": [...]}]}.
"""
import json
import math
import sys

import optuna

optuna.logging.set_verbosity(optuna.logging.ERROR)

A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991], [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
ALPHA = [1.0, 1.2, 3.0, 3.2]


def branin(t):
    x1, x2 = t.suggest_float("x1", -5, 10), t.suggest_float("x2", 0, 15)
    b, c, r, s, tt = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 6, 10, 1 / (8 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - r) ** 2 + s * (1 - tt) * math.cos(x1) + s


def hartmann6(t):
    x = [t.suggest_float(f"x{j}", 0, 1) for j in range(6)]
    return -sum(ALPHA[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j] * 1e-4) ** 2 for j in range(6))) for i in range(4))


seeds, trials = int(sys.argv[1]), int(sys.argv[2])
out = []
for name, f, opt in [("branin", branin, 0.397887), ("hartmann6", hartmann6, -3.32237)]:
    regrets = []
    for seed in range(seeds):
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
        study.optimize(f, n_trials=trials)
        regrets.append(study.best_value - opt)
    out.append({"name": name, "regrets": regrets})
print(json.dumps({"optuna": optuna.__version__, "functions": out}))
