"""The bundled training methods, one file each (installed as ``mtbench.trainers``):
``mle`` (ALMA stage 2, instruction tuning), ``alma-stage1``, ``lat``, ``tim``, ``mfti``.
Each file defines ``Method``, a ``mtbench.train.recipes.Recipe``; the registry
(``mtbench.train.recipes.RECIPES``) names them. ``configs/`` holds example YAMLs and
``accelerate/`` the multi-GPU launch configs."""
