"""A toy embedding table for the embeddings topic: nine words in four hand-chosen dimensions.

The dimensions mean roughly royalty, gender (+1 male, -1 female), person and food. The
numbers were picked by hand, with small integers so that every cosine is an exact surd, so that
- king - man + woman lands nearest to queen (cosine 30/sqrt(910), about 0.994), and exactly on
  princess for prince - man + woman;
- man and woman, apple and orange are each other's nearest neighbours;
- the raw dot product picks other neighbours than the cosine for king, queen and banana, because
  long vectors (king, orange) win dot products.
"""

DIMENSIONS = ("royalty", "gender", "person", "food")

VECTORS = {
    "king": (5, 1, 3, 0),
    "queen": (4, -1, 3, 0),
    "man": (0, 1, 4, 0),
    "woman": (0, -1, 4, 0),
    "prince": (3, 1, 1, 0),
    "princess": (3, -1, 1, 0),
    "apple": (0, 0, 0, 4),
    "orange": (1, 0, 0, 5),
    "banana": (0, 0, 1, 3),
}
