"""The course: the guide's twelve chapters in order, and where in the lab each one is shown.

The lab's home page is this table of contents; every lesson page names its chapters from here. A chapter whose
page does not exist yet has `link=None` and is listed as coming, not hidden: the course is the plan as well as
what is built.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Chapter:
    """One chapter of the guide: its number, title, one plain sentence of what it teaches, and where the lab shows
    it (a page path, maybe with a #section; None while no page shows it yet)."""

    number: int
    title: str
    summary: str
    link: str | None
    explanation: str = ""       # a few plain sentences: what the chapter's page shows and what to look for
    also: tuple[str, ...] = ()  # other pages with a section of this chapter (their own experiments on it)

    @property
    def coming(self) -> bool:
        return self.link is None

    @property
    def anchor(self) -> str:
        """The id of this chapter's section on a page: links point at it, lesson frames carry it."""
        return f"chapter-{self.number}"


CHAPTERS = (
    Chapter(1, "What a network is",
            "Layers of nodes joined by weights; each node sums its inputs and bends the sum with an activation.",
            "/playground#chapter-1",
            "A neural network is a function built from layers of neurons. Each neuron multiplies its inputs by "
            "weights, adds them up with a bias, and bends the sum with an activation. Below, two input features "
            "(a point's position) feed the hidden layers, and the output layer says which class the point belongs "
            "to. Press Play and watch the weights (the lines) change and the decision boundary take shape."),
    Chapter(2, "History",
            "From the perceptron (1958) and the XOR problem to backpropagation, convolutional nets and deep learning.",
            "/history#chapter-2",
            "McCulloch and Pitts (1943) described a neuron as a threshold unit that computes logic. Rosenblatt's "
            "perceptron (1958) learned its weights from examples, one mistake at a time; Minsky and Papert showed in "
            "1969 that one layer cannot learn XOR. Backpropagation (Rumelhart, Hinton and Williams, 1986) made "
            "hidden layers trainable, convolutional networks read digits in the 1990s, and GPUs and big data "
            "brought deep learning in 2012. Run each step of that story below."),
    Chapter(3, "Forward propagation",
            "How one example flows through the layers and becomes a prediction, number by number.",
            "/step#chapter-3",
            "Forward propagation turns an input into a prediction: each layer computes z = W·x + b and then an "
            "activation a = f(z), and passes a on to the next layer. Follow one example through every number."),
    Chapter(4, "The loss",
            "One number for how wrong the network is: mean squared error and cross-entropy, high and low.",
            "/playground#chapter-4",
            "The loss is one number for how wrong the network is. Cross-entropy, for classes, is −log of the "
            "probability the network gave the right class; mean squared error, for numbers, is the average "
            "squared distance from the target. Training is nothing but making this number smaller."),
    Chapter(5, "Backpropagation",
            "The chain rule run backwards: how much each weight is to blame for the loss.",
            "/step#chapter-5",
            "Backpropagation computes, for every weight at once, how much the loss would change if that weight "
            "grew a little: its gradient. It applies the chain rule from the loss backwards, layer by layer, each "
            "layer multiplying the gradient by its own local derivative."),
    Chapter(6, "Gradient descent and its variants",
            "Step downhill on the loss: the learning rate, batches, momentum, RMSProp and Adam.",
            "/descent#chapter-6",
            "Gradient descent moves every weight a small step against its gradient, downhill on the loss. The "
            "learning rate sets the step: too small and learning crawls, too large and the steps overshoot and "
            "the loss goes up. A batch of examples estimates the gradient; momentum, RMSProp and Adam shape the "
            "steps.", also=("/playground",)),
    Chapter(7, "One learning step, five parts",
            "Forward, loss, backward, update, repeat: one real training step taken apart.",
            "/step#chapter-7",
            "One learning step has five parts: forward (compute the prediction), loss (measure the error), "
            "backward (compute every gradient), update (move every weight), and repeat with the next batch. Take "
            "one real step apart."),
    Chapter(8, "MNIST, a real example",
            "60,000 handwritten digits learned to over 98% in seconds; then draw your own.",
            "/mnist#chapter-8",
            "MNIST is 70,000 handwritten digits of 28×28 pixels. A network with two hidden layers learns them to "
            "over 98% on the test set in a few epochs. Watch the loss fall and the first layer's weights turn "
            "into stroke detectors, then draw your own digit."),
    Chapter(9, "When learning goes wrong",
            "Overfitting and underfitting, vanishing and exploding gradients, and what training costs.",
            "/wrong#chapter-9",
            "Learning can fail in a few recognisable ways. Overfitting: the network memorises its training "
            "examples, noise included, and does worse on new ones. Underfitting: it cannot even fit the training "
            "examples. Vanishing or exploding gradients: the gradient shrinks or grows on its way back through the "
            "layers, so early layers stop learning or the steps blow up. And every layer costs operations, memory "
            "and seconds, more with every unit and layer added.", also=("/playground",)),
    Chapter(10, "Remedies",
            "More data, L2, dropout, augmentation, batch normalisation, residual connections and gradient clipping.",
            "/remedies#chapter-10",
            "Each failure has remedies: more data, L2, dropout, augmented images and early stopping against "
            "overfitting; ReLU, good initialisation, batch normalisation and residual connections against vanishing "
            "gradients; gradient clipping and a lower learning rate against exploding ones. Try each on a run that "
            "went wrong and watch the numbers change.", also=("/playground",)),
    Chapter(11, "Inside the network",
            "What the hidden layers compute: deep features and which pixels a prediction rests on.",
            "/inside#chapter-11",
            "The hidden layers compute features of their own, and a prediction rests on some pixels more than "
            "others. Attribution maps show which: the gradient of the class score, the gradient times the input, "
            "integrated gradients and occlusion. Ask why the model chose its answer, or why not another class, and "
            "check each map: one that barely changes when the weights are re-drawn at random shows the digit, not "
            "what the model learned.", also=("/draw",)),
    Chapter(12, "Beyond: transfer learning and neuro-symbolic AI",
            "Reusing what a network learned on one task for another, and joining learning with logic.",
            "/transfer#chapter-12",
            "A network trained on one task can start another: transfer learning reuses its layers, frozen or "
            "fine-tuned, and needs far fewer labels when the tasks are near. Neuro-symbolic AI joins learned "
            "perception with explicit rules: given the rule of addition, a network learns to read digits from sums "
            "alone, with no digit label at all.", also=("/neurosymbolic",)),
)


def chapter(number: int) -> Chapter:
    """The chapter with this number (1 to 12)."""
    for candidate in CHAPTERS:
        if candidate.number == number:
            return candidate
    raise ValueError(f"the course has chapters 1 to {len(CHAPTERS)}, got {number!r}.")


def chapters_on(path: str) -> tuple[Chapter, ...]:
    """The chapters a page shows, in course order: those whose link is that page (with or without a #section), and
    those that name it in `also`."""
    return tuple(c for c in CHAPTERS if c.link is not None and (c.link.split("#", 1)[0] == path or path in c.also))
