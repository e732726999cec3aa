"""Results layer: posterior summaries, harm probabilities, absolute effects."""
