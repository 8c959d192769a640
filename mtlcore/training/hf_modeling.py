"""A Hugging Face sequence classifier with mtlcore's pooling: the model class of an exported task.

`python -m mtlcore export` writes one task of a run as a Hugging Face model folder and copies this file into it
(transformers' custom-code mechanism), so it loads without mtlcore:

    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
    model = AutoModelForSequenceClassification.from_pretrained("exported/", trust_remote_code=True)
    pipe = pipeline("text-classification", model="exported/", trust_remote_code=True)
    # (the pipeline logs that it does not know the class; it runs it, with the class names)

BERT's own `BertForSequenceClassification` classifies from its pooler (a dense layer on [CLS]); mtlcore's heads
read the attention-masked mean of the last hidden states (or [CLS] without the pooler): only this class gives the
run's own numbers. This file imports torch and transformers only (it is executed outside mtlcore).
"""
from __future__ import annotations

import torch
from torch import nn
from transformers import AutoModel, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

# encoders whose AutoModel has BERT's pooler, left out (mtlcore never uses it)
NO_POOLER = {"bert", "roberta", "xlm-roberta"}


class PooledSequenceClassifier(PreTrainedModel):
    """Encoder -> pool ("mean" over real tokens, or "cls") -> dropout -> linear head.

    config: the encoder's own config plus `mtlcore_pooling`, `num_labels`, `id2label` and `problem_type`
    (single_label_classification, multi_label_classification or regression)."""

    config_class = PretrainedConfig
    base_model_prefix = "encoder"
    _supports_sdpa = True          # the attention is the encoder's own (BERT-style encoders support SDPA)

    def __init__(self, config: PretrainedConfig):
        super().__init__(config)
        extra = {"add_pooling_layer": False} if config.model_type in NO_POOLER else {}
        self.encoder = AutoModel.from_config(config, **extra)
        self.pooling = getattr(config, "mtlcore_pooling", "mean")
        self.dropout = nn.Dropout(getattr(config, "classifier_dropout", None) or 0.0)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None, **kwargs):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        extra = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1.0)
        logits = self.classifier(self.dropout(pooled))
        loss = None
        if labels is not None:
            kind = self.config.problem_type
            if kind == "regression":
                loss = nn.functional.mse_loss(logits.squeeze(-1), labels.to(logits.dtype))
            elif kind == "multi_label_classification":
                loss = nn.functional.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
            else:
                loss = nn.functional.cross_entropy(logits, labels)
        return SequenceClassifierOutput(loss=loss, logits=logits)
