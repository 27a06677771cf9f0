"""Training recipes: the settings that make each dataset train well by default, and the one place
that turns a recipe into a model and an optimizer. The CLI, the lab and notebooks share them."""

import itertools
import math
from dataclasses import asdict, dataclass, replace

from learnscope.architectures import ACTIVATION_LABELS, build_cnn, build_mlp, input_statistics
from learnscope.core.validation import check_choice, check_int, check_range
from learnscope.model import Sequential
from learnscope.optim import OPTIMIZER_LABELS, Constant, Cosine, Optimizer, StepDecay, Warmup, get_optimizer

SCHEDULE_NAMES = ("constant", "cosine", "step", "warmup-cosine")
MODEL_KINDS = ("mlp", "cnn")
#: "auto": cross-entropy for classes, squared error for numbers
LOSS_NAMES = ("auto", "cross-entropy", "mse")
#: A recorded run's loss (the class the trainer used) -> the recipe's name for it
_LOSS_OF_CLASS = {"SoftmaxCrossEntropy": "cross-entropy", "MSE": "mse"}


def _recipe_loss(config: dict) -> str:
    """The recipe's loss choice for the loss class a run recorded: "auto" where auto would have chosen that class
    (cross-entropy for classes, squared error for numbers), so a run's recipe reads back as it was written."""
    chosen = _LOSS_OF_CLASS.get(config["loss"], config["loss"])
    classes = config.get("n_classes") is not None
    return "auto" if (chosen, classes) in (("cross-entropy", True), ("mse", False)) else chosen


@dataclass(frozen=True)
class Recipe:
    """Everything that decides how a model is built and trained, as plain JSON-able values."""

    model: str = "mlp"
    hidden: tuple = (256, 128)
    activation: str = "relu"
    optimizer: str = "nesterov"
    lr: float = 0.1
    schedule: str = "warmup-cosine"
    batch_size: int = 128
    epochs: int = 5
    weight_decay: float = 0.0
    dropout: float = 0.0
    batch_norm: bool = False
    standardize: bool = False           # shift and scale the inputs to mean 0, std 1 (a Standardize layer)
    loss: str = "auto"                  # see LOSS_NAMES
    train_samples: int | None = None    # train on the first N training examples only (None: all of them)
    augment: bool = False               # move and turn every training image a little, anew each epoch (images only)
    early_stopping: bool = False        # hold out validation examples; keep the weights of their best epoch
    seed: int = 0

    def with_options(self, **changes) -> "Recipe":
        """A copy with the given fields changed; None means 'keep the default'. Validated."""
        recipe = replace(self, **{key: value for key, value in changes.items() if value is not None})
        recipe.validate()
        return recipe

    def validate(self) -> None:
        check_choice(self.model, "model", "Recipe", MODEL_KINDS)
        check_choice(self.schedule, "schedule", "Recipe", SCHEDULE_NAMES)
        check_range(self.lr, "lr", "Recipe", minimum=0, inclusive=(False, True), fix="Try e.g. --lr 0.01.")
        check_int(self.batch_size, "batch_size", "Recipe", minimum=1, fix="Use 1 (stochastic) or more.")
        check_int(self.epochs, "epochs", "Recipe", minimum=1, maximum=10_000)
        check_range(self.weight_decay, "weight_decay", "Recipe", minimum=0, fix="Try e.g. --l2 1e-4.")
        check_choice(self.loss, "loss", "Recipe", LOSS_NAMES, fix="Use --loss cross-entropy or --loss mse.")
        if self.train_samples is not None:
            check_int(self.train_samples, "train_samples", "Recipe", minimum=1, fix="Pass e.g. --train-samples 1000.")

    def to_dict(self) -> dict:
        return {**asdict(self), "hidden": list(self.hidden)}

    @classmethod
    def from_config(cls, config: dict) -> "Recipe":
        """The recipe a recorded run's config holds (to_dict's fields among others), validated."""
        fields = {name: config[name] for name in cls.__dataclass_fields__ if name in config}
        if "loss" in fields:                            # the recorder writes the loss class the run used
            fields["loss"] = _recipe_loss(config)
        recipe = cls(**{**fields, "hidden": tuple(fields.get("hidden", ()))})
        recipe.validate()
        return recipe


#: Defaults per dataset family, chosen by experiment. MNIST: 98% test accuracy at 1.5 epochs and
#: 98.15–98.38% after 2 epochs on seeds 0–4 (BatchNorm is what makes 2 epochs enough).
IMAGE_MLP = Recipe(hidden=(256, 256), batch_norm=True, standardize=True, optimizer="nesterov", lr=0.3,
                   schedule="warmup-cosine", batch_size=128, epochs=2)
DEFAULT_RECIPES = {
    "mnist": IMAGE_MLP,
    "fashion-mnist": IMAGE_MLP.with_options(epochs=5),
    "digits": Recipe(hidden=(64,), standardize=True, optimizer="nesterov", lr=0.05, batch_size=32, epochs=30),
    "toy": Recipe(hidden=(16, 16), activation="tanh", optimizer="adam", lr=0.01, schedule="constant",
                  batch_size=32, epochs=200),
    "table": Recipe(hidden=(32, 32), optimizer="adam", lr=0.003, schedule="constant", batch_size=32, epochs=100),
}
#: LeNet-like CNN: 99.18–99.24% after 3 epochs on seeds 0–3, 29–35 s of training on two cores
#: (benchmarks/mnist_cnn.py --seeds 4). The small L2 is worth 0.1–0.2 points: without it seed 0 ended at 99.01%.
CNN_RECIPE = {"model": "cnn", "batch_norm": False, "optimizer": "nesterov", "lr": 0.1,
              "schedule": "warmup-cosine", "batch_size": 128, "epochs": 3, "weight_decay": 5e-4}


def default_recipe(family: str, model: str = "mlp") -> Recipe:
    """The recipe learnscope uses for a dataset family ('mnist', 'digits', 'toy', 'table', ...)."""
    recipe = DEFAULT_RECIPES[check_choice(family, "family", "default_recipe", tuple(DEFAULT_RECIPES))]
    model = check_choice(model, "model", "default_recipe", MODEL_KINDS, fix="Use --model mlp or --model cnn.")
    return recipe.with_options(**CNN_RECIPE) if model == "cnn" else recipe


def build_from_recipe(recipe: Recipe, input_shape, n_classes: int, x_train=None) -> Sequential:
    """The recipe's network for inputs of `input_shape` (one example) and `n_classes` outputs.
    With recipe.standardize, x_train supplies the mean and std the first layer removes."""
    stats = None
    if recipe.standardize:
        if x_train is None:
            raise ValueError("build_from_recipe: this recipe standardizes its inputs, so it needs x_train "
                             "to measure their mean and std. Pass x_train=...")
        stats = input_statistics(x_train)
    if recipe.model == "cnn":
        return build_cnn(input_shape, n_classes, dropout=recipe.dropout, batch_norm=recipe.batch_norm,
                         input_stats=stats, seed=recipe.seed)
    return build_mlp(input_shape, n_classes, hidden=recipe.hidden, activation=recipe.activation,
                     dropout=recipe.dropout, batch_norm=recipe.batch_norm, input_stats=stats, seed=recipe.seed)


def optimizer_from_recipe(recipe: Recipe, steps_per_epoch: int) -> Optimizer:
    """The recipe's optimizer, its schedule spanning the whole run (epochs × steps_per_epoch)."""
    total_steps = recipe.epochs * steps_per_epoch
    if recipe.schedule == "cosine":
        schedule = Cosine(total_steps)
    elif recipe.schedule == "warmup-cosine":
        warmup = max(1, min(100, total_steps // 5))     # 100 steps, or a fifth of a short run
        schedule = Warmup(warmup, then=Cosine(max(1, total_steps - warmup)))
    elif recipe.schedule == "step":
        schedule = StepDecay(step_size=max(1, math.ceil(total_steps / 3)), gamma=0.1)
    else:
        schedule = Constant()
    return get_optimizer(recipe.optimizer, lr=recipe.lr, weight_decay=recipe.weight_decay, schedule=schedule)


def training_memory_bytes(recipe: Recipe, input_shape, n_outputs: int, n_train: int) -> int:
    """A generous estimate of the memory training `recipe` takes (beyond the data): each weight with its gradient
    and two arrays of optimizer memory, and a batch's output of every layer, kept for backpropagation, plus the
    gradient in flight. Computed from the shapes, without building an MLP (whose weights could be the problem)."""
    batch = min(recipe.batch_size, n_train)
    if recipe.model == "cnn":                           # small weights: build it and follow the shapes
        model = build_cnn(input_shape, n_outputs, dropout=recipe.dropout, batch_norm=recipe.batch_norm)
        n_params, sizes, shape = model.n_params(), [], tuple(input_shape)
        for layer in model.layers:
            output = layer.output_shape(shape)
            sizes.append(math.prod(output))
            if "W" in layer.params and layer.params["W"].ndim == 4:   # a convolution's unfolded input (im2col),
                kernel = math.prod(layer.params["W"].shape[1:])       # kept for backward, and its gradient
                sizes.append(2 * kernel * math.prod(output[1:]))
            shape = output
    else:
        widths = [math.prod(input_shape), *recipe.hidden, n_outputs]
        n_params = sum((n_in + 1) * n_out for n_in, n_out in itertools.pairwise(widths))
        # per hidden layer: Dense's output, batch norm's output and normalised input, the activation's output,
        # dropout's mask and output
        copies = 2 + 2 * recipe.batch_norm + 2 * (recipe.dropout > 0)
        sizes = [width * copies for width in recipe.hidden] + [2 * n_outputs]     # logits and probabilities
    per_example = sum(sizes) + 2 * max(sizes)
    return 4 * (4 * n_params + batch * per_example)


#: A recorded run's settings (its config: the recipe and what training added) -> their names in words, in the
#: order they are shown; settings not listed here are bookkeeping and are not shown
SETTING_WORDS = {
    "framework": "trained with", "model": "network", "hidden": "hidden layers", "activation": "activation",
    "batch_norm": "batch norm",
    "dropout": "dropout", "standardize": "standardized inputs", "augment": "augmented images (moved, turned)",
    "early_stopping": "early stopping", "loss": "loss", "optimizer": "optimizer",
    "lr": "learning rate", "schedule": "learning-rate schedule", "weight_decay": "L2 weight decay",
    "batch_size": "batch size", "epochs": "epochs", "n_samples": "training examples", "n_classes": "classes",
    "seed": "seed", "resumed_from": "continued from run",
}
_VALUE_WORDS = {"activation": ACTIVATION_LABELS, "optimizer": OPTIMIZER_LABELS,
                "loss": {"SoftmaxCrossEntropy": "cross-entropy", "MSE": "mean squared error",
                         "BinaryCrossEntropy": "binary cross-entropy"},
                "model": {"mlp": "MLP (fully connected)", "cnn": "CNN (convolutions)"}}


def settings_in_words(config: dict) -> list[tuple[str, str]]:
    """(name, value) pairs of a run's settings as a person reads them: "learning rate", "0.01"; "optimizer",
    "Adam". Settings that are unset (None) are left out; switches read on/off, layer sizes "256, 128"."""
    rows = []
    for key, words in SETTING_WORDS.items():
        value = config.get(key)
        if value is None:
            continue
        if isinstance(value, bool):
            text = "on" if value else "off"
        elif isinstance(value, (list, tuple)):
            text = ", ".join(str(item) for item in value) or "none"
        elif isinstance(value, float):
            text = f"{value:g}"
        elif isinstance(value, int):
            text = f"{value:,}"
        else:
            text = _VALUE_WORDS.get(key, {}).get(str(value), str(value))
        rows.append((words, text))
    return rows
