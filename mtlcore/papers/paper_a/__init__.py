"""Paper A (spine MRI reports): one multi-task model vs one model per task, and why.

- `families`: the model families' configs and scores (A-T1, A0-T1), the reference rows and learned-model guards,
  the efficiency of one MTL model;
- `probes`: representations and CKA (A-F2), task-gradient cosines (A-F3), the MTL - STL gap of a group (A-F4);
- `pipeline`: the report -> level -> prediction pipeline on whole notes and its presence micro-F1 (A-F1).
"""
from .families import (CHECKPOINTED, FAMILIES, base_config, corpus_guards, dev_guard, efficiency, family_config, family_guards, family_scores,
                       pair_config, paired_differences, reference_rows, seconds_per_seed, summary_table)
from .pipeline import notes_of, per_pathology_f1, pipeline_table, presence_micro_f1
from .probes import (corpus_features, gradient_cosines, group_gap, group_scores, layer_cka, layer_names,
                     representations, run_cosines)

__all__ = ["CHECKPOINTED", "FAMILIES", "base_config", "corpus_guards", "dev_guard", "corpus_features", "efficiency",
           "family_config", "family_guards", "family_scores", "gradient_cosines", "group_gap", "group_scores",
           "layer_cka", "layer_names",
           "notes_of", "pair_config", "paired_differences", "per_pathology_f1", "pipeline_table",
           "presence_micro_f1", "reference_rows", "representations", "run_cosines", "seconds_per_seed",
           "summary_table"]
