"""BPE's wording: how it starts, how it splits words, what happens after training."""

INTRO = (
    "Byte-pair encoding (BPE), the tokenizer family of GPT-2 and most decoder-only models, learns its "
    "vocabulary from a corpus of words with counts. It starts from single characters and repeatedly merges "
    "the most frequent pair of adjacent tokens. This follows the Hugging Face course's chapter on BPE, on "
    "characters rather than bytes."
)
BYTE_LEVEL_INTRO = (
    "Byte-pair encoding (BPE), the tokenizer family of GPT-2 and most decoder-only models, learns its "
    "vocabulary from a corpus of words with counts. It starts from single symbols and repeatedly merges "
    "the most frequent pair of adjacent tokens. This follows the Hugging Face course's chapter on BPE, with "
    "GPT-2's byte-level pre-tokenizer (--byte-level); as in the course, the starting vocabulary is the "
    "symbols that occur, not all 256 bytes."
)
HOW_TO_SPLIT = "Split every word into its characters."
ALPHABET_ORDER = "in alphabetical order"
AFTERWARDS = (
    "To tokenize new text, BPE replays the merges in the order they were learned. A real trainer "
    "such as GPT-2's works on bytes rather than characters, adds special tokens such as <|endoftext|>, and "
    "merges until the vocabulary reaches a target size."
)
ADDED_PREFIX = "BPE splits words into plain characters; the '##' continuation prefix is WordPiece's."
NORMALISED = (
    "BPE ranks pairs by their raw frequency; dividing by freq(a)·freq(b) is WordPiece's score, not BPE's."
)
OTHER_TIE_BREAK = (
    "Break ties between equally frequent pairs by the rule in force (--tie-break): 'first' keeps the pair "
    "met first, 'lexicographic' takes the greatest pair."
)
