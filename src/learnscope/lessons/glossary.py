"""The glossary: one plain definition for every technical word the lab uses, and the text marker that puts them
under the words on a page.

    mark_terms("Each epoch shows every example once.")
    -> [("Each ", None), ("epoch", "epoch"), (" shows every example once.", None)]

A page renders the marked pieces with a hover definition (lab/components/glossary.py). Only a term's first
appearance in a text is marked: a paragraph full of underlines is harder to read, not easier.
"""

import re
from functools import lru_cache

#: term -> definition, in plain words. Keys are lower case; a term matches in any case and in its plural
#: ("epochs"); variants of one idea point at one definition through ALIASES.
GLOSSARY = {
    "neural network": "A function built from many simple units (neurons) in layers; its weights are learned from "
                      "examples instead of being written by hand.",
    "layer": "A group of neurons that all read the same inputs and pass their outputs on to the next layer.",
    "hidden layer": "A layer between the inputs and the outputs: its values are neither given nor asked for, the "
                    "network invents them.",
    "neuron": "One unit of a layer: it multiplies each input by a weight, adds them up with a bias and applies an "
              "activation to the sum.",
    "weight": "A number on a connection: how strongly one neuron's output counts in the next neuron's sum. "
              "Learning means changing the weights.",
    "bias": "A number each neuron adds to its weighted sum, so it can be active even when all inputs are zero.",
    "activation": "The bend a neuron applies to its sum (ReLU, tanh, sigmoid). Without it, any stack of layers "
                  "would be one straight-line (linear) function.",
    "relu": "Rectified linear unit: max(0, z). Passes positive sums unchanged and turns negative ones into 0.",
    "sigmoid": "1 / (1 + e^−z): squashes any sum into (0, 1). Its slope is at most 0.25, so gradients shrink as "
               "they pass back through many sigmoid layers.",
    "tanh": "The hyperbolic tangent: squashes any sum into (−1, 1), centred on 0.",
    "forward propagation": "Computing the network's output from an input, one layer after another.",
    "loss": "One number saying how wrong the network's predictions are on some examples; training makes it "
            "smaller.",
    "mean squared error": "A loss: the average of (prediction − target)². Natural for numbers, weak for classes.",
    "cross-entropy": "A loss for classes: −log of the probability the network gave the right class. 0 when it is "
                     "sure and right, large when it is sure and wrong.",
    "logit": "A raw class score, before softmax turns the scores into probabilities.",
    "softmax": "Turns a list of scores into probabilities that are positive and add up to 1: e^score / Σ e^score.",
    "gradient": "For each weight, how much the loss changes when that weight grows a little. It points uphill; "
                "training steps the other way.",
    "backpropagation": "Computing every weight's gradient at once, by applying the chain rule from the loss back "
                       "through the layers.",
    "chain rule": "The derivative of a function of a function is the product of their derivatives: how "
                  "backpropagation passes blame from layer to layer.",
    "gradient descent": "Training by repeatedly moving every weight a small step against its gradient, downhill on "
                        "the loss.",
    "learning rate": "How big each gradient-descent step is. Too small: learning crawls. Too large: the steps "
                     "overshoot and the loss goes up.",
    "optimizer": "The rule that turns gradients into weight changes: plain SGD, momentum, RMSProp, Adam.",
    "momentum": "Keeps a running average of past steps so the weights roll on through small bumps and zig-zags.",
    "adam": "An optimizer that scales each weight's step by its own recent gradient sizes; a robust default.",
    "epoch": "One pass over all training examples.",
    "batch": "The group of examples used for one step: their gradients are averaged before the weights change.",
    "step": "One update of the weights, from one batch.",
    "accuracy": "The share of examples whose predicted class is the right one.",
    "training set": "The examples the network learns from.",
    "test set": "Examples kept aside and never trained on: how well the network does on them is what it has "
                "really learned.",
    "decision boundary": "The line (or curve) where the network's answer changes from one class to another.",
    "overfitting": "Learning the training examples, noise included, instead of the pattern: training accuracy "
                   "high, test accuracy lower.",
    "underfitting": "Not even fitting the training examples: the network is too small, too slow or stuck.",
    "vanishing gradient": "Gradients that shrink layer by layer on their way back, so the first layers hardly "
                          "learn.",
    "exploding gradient": "Gradients that grow layer by layer on their way back, so the steps become huge and "
                          "training diverges.",
    "divergence": "Training going the wrong way: the loss grows (or becomes infinite) instead of falling.",
    "regularisation": "Anything that keeps a network from fitting noise: L2, dropout, more data, a smaller network.",
    "l2": "A regulariser that pulls every weight a little towards zero at each step, so the network prefers simple "
          "boundaries.",
    "dropout": "While training, switching off a random share of neurons at each step, so no neuron can rely on one "
               "partner.",
    "batch normalisation": "Rescaling each layer's sums over the batch to mean 0 and spread 1 before the "
                           "activation; it makes deep networks easier to train.",
    "perceptron": "Rosenblatt's 1958 single-layer network: one weighted sum and a threshold. It can only separate "
                  "classes with a straight line, so it cannot learn XOR.",
    "feature": "One number describing an example: a pixel, a position, or something a hidden layer computed.",
    "threshold": "The value a neuron's weighted sum must reach for it to fire (output 1) in a threshold unit.",
    "xor": "Exclusive or: 1 when exactly one of two inputs is 1. No single straight line separates its 1s from its "
           "0s, so one perceptron cannot learn it; a hidden layer can.",
    "linearly separable": "Two classes one straight line (a flat plane, in more dimensions) can split with every "
                          "example on its own side. The perceptron learns exactly these.",
    "margin": "How far the separating line stays from the nearest example; the wider, the sooner the perceptron "
              "finds a line (Novikoff's bound, (R/γ)² mistakes at most).",
}

#: other spellings and forms -> the glossary's term
ALIASES = {
    "neural networks": "neural network", "network": "neural network", "networks": "neural network",
    "hidden layers": "hidden layer", "neurons": "neuron", "node": "neuron", "nodes": "neuron",
    "activations": "activation", "activation function": "activation", "forward pass": "forward propagation",
    "mse": "mean squared error", "cross entropy": "cross-entropy", "logits": "logit", "gradients": "gradient",
    "backprop": "backpropagation", "learning rates": "learning rate", "optimizers": "optimizer",
    "epochs": "epoch", "batches": "batch", "batch size": "batch", "steps": "step", "weights": "weight",
    "biases": "bias", "layers": "layer", "test points": "test set", "training points": "training set",
    "vanishing gradients": "vanishing gradient", "exploding gradients": "exploding gradient",
    "diverges": "divergence", "diverged": "divergence", "regularization": "regularisation",
    "batch norm": "batch normalisation", "batch normalization": "batch normalisation", "features": "feature",
    "overfits": "overfitting", "underfits": "underfitting", "separable": "linearly separable",
}


def definition(term: str) -> str:
    """The glossary's definition of a term or one of its aliases (any case)."""
    key = ALIASES.get(term.lower(), term.lower())
    if key not in GLOSSARY:
        raise KeyError(f"the glossary has no entry for {term!r}; add one to learnscope.lessons.glossary.GLOSSARY.")
    return GLOSSARY[key]


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern:
    words = sorted({*GLOSSARY, *ALIASES}, key=len, reverse=True)       # longest first: "hidden layer" before "layer"
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(word) for word in words) + r")(?![\w-])", re.IGNORECASE)


def mark_terms(text: str) -> list[tuple[str, str | None]]:
    """Split text into (piece, term) pairs: term is the glossary key for a piece that is a glossary word's first
    appearance (in any form), None for everything else. Joining the pieces gives the text back."""
    pieces: list[tuple[str, str | None]] = []
    seen: set[str] = set()
    position = 0
    for match in _pattern().finditer(text):
        word = match.group(0)
        term = ALIASES.get(word.lower(), word.lower())
        if term in seen:
            continue
        seen.add(term)
        if match.start() > position:
            pieces.append((text[position:match.start()], None))
        pieces.append((word, term))
        position = match.end()
    if position < len(text):
        pieces.append((text[position:], None))
    return pieces
