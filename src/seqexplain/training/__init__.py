"""The steps :func:`seqexplain.train.train` is built from, one module per job:

================  ==========================================================================
``settings``      :class:`TrainSettings` (how to train), config files (:func:`read_config_file`)
                  and their merge with overrides (:func:`read_train_setup` → :class:`TrainSetup`)
``splits``        :class:`Split` and the holdout split (:func:`split_indices`, :func:`stratify`)
``capacity``      the capacity that follows the data (:func:`capacity_rule`,
                  :func:`apply_capacity_rule`)
``fitting``       fitting one CNN (:func:`fit_cnn`: augmentation, class weights, callbacks,
                  distribution strategy) and its outputs (:func:`predict_outputs`)
``choices``       the choices made on the validation split (reverse complement, collapse
                  check, quality check, positional path) and their description
``evaluation``    the baselines fitted beside the CNN and K-fold cross-validation
================  ==========================================================================

This package exports nothing itself: import from its modules. What ``seqexplain train`` does
(files → a model folder) is :mod:`seqexplain.train_run`, above :mod:`seqexplain.train`.
"""


