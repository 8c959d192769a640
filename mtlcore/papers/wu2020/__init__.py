"""Wu, Zhang & Re (ICLR 2020), "Understanding and Improving Information Transfer in Multi-Task Learning".

- `theory`: the shared-module model (linear / ReLU), its solvers and the paper's closed forms.
- `transfer`: the synthetic experiments (Figs. 2-3, Props. 1 and 3).
- `sentiment_data`, `sentiment`: the sentiment setting (Figs. 5b, 6, 7) and Alg. 1's schedule.
- `glue_alignment`: Alg. 1 on GLUE task sets with the transformer (Fig. 5a).
- `reweighting`: Alg. 2 on tasks that share their inputs (Table 1).
"""
