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
            "/playground#chapter-1"),
    Chapter(2, "History",
            "From the perceptron (1958) and the XOR problem to backpropagation, convolutional nets and deep learning.",
            None),
    Chapter(3, "Forward propagation",
            "How one example flows through the layers and becomes a prediction, number by number.",
            "/step#chapter-3"),
    Chapter(4, "The loss",
            "One number for how wrong the network is: mean squared error and cross-entropy, high and low.",
            "/playground#chapter-4"),
    Chapter(5, "Backpropagation",
            "The chain rule run backwards: how much each weight is to blame for the loss.",
            "/step#chapter-5"),
    Chapter(6, "Gradient descent and its variants",
            "Step downhill on the loss: the learning rate, batches, momentum, RMSProp and Adam.",
            "/playground#chapter-6"),
    Chapter(7, "One learning step, five parts",
            "Forward, loss, backward, update, repeat: one real training step taken apart.",
            "/step#chapter-7"),
    Chapter(8, "MNIST, a real example",
            "60,000 handwritten digits learned to over 98% in seconds; then draw your own.",
            "/mnist#chapter-8"),
    Chapter(9, "When learning goes wrong",
            "Overfitting and underfitting, vanishing and exploding gradients, and what training costs.",
            "/playground#chapter-9"),
    Chapter(10, "Remedies",
            "Regularisation, dropout, batch normalisation, better initialisation and learning-rate choices.",
            "/playground#chapter-10"),
    Chapter(11, "Inside the network",
            "What the hidden layers compute: deep features and which pixels a prediction rests on.",
            "/draw#chapter-11"),
    Chapter(12, "Beyond: transfer learning and neuro-symbolic AI",
            "Reusing what a network learned on one task for another, and joining learning with logic.",
            None),
)


def chapter(number: int) -> Chapter:
    """The chapter with this number (1 to 12)."""
    for candidate in CHAPTERS:
        if candidate.number == number:
            return candidate
    raise ValueError(f"the course has chapters 1 to {len(CHAPTERS)}, got {number!r}.")


def chapters_on(path: str) -> tuple[Chapter, ...]:
    """The chapters a page shows, in course order: those whose link is that page (with or without a #section)."""
    return tuple(c for c in CHAPTERS if c.link is not None and c.link.split("#", 1)[0] == path)
