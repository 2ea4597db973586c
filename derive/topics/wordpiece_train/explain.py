"""WordPiece's wording: how it starts, how it splits words, what happens after training."""

INTRO = (
    "WordPiece, the tokenizer of BERT, learns its vocabulary from a corpus of words with counts. It "
    "starts from single characters and repeatedly merges the pair of adjacent tokens with the best score, "
    "which divides how often the pair occurs by how often its parts occur. This follows the Hugging Face "
    "course's chapter on WordPiece."
)
HOW_TO_SPLIT = (
    "Split every word into characters. The first character stays as it is; every later one "
    "gets the prefix “##”, which marks a piece that continues a word, so “##g” inside “hug” and “g” at the "
    "start of a word are different tokens."
)
ALPHABET_ORDER = "word-initial characters in alphabetical order, then the continuation characters"
AFTERWARDS = (
    "To tokenize new text, WordPiece keeps only this vocabulary, not the merges: it takes the "
    "longest vocabulary entry that starts each word, then the longest “##” piece after it, and so on. A "
    "real trainer such as BERT's also adds special tokens ([PAD], [UNK], [CLS], [SEP], [MASK]) and merges "
    "until the vocabulary reaches a target size."
)
NO_PREFIX = "Every character after the first of a word carries the '##' prefix: '##u' and 'u' differ."
FREQUENCY = (
    "WordPiece divides a pair's frequency by freq(a)·freq(b) and merges the best score; "
    "picking the most frequent pair is BPE's rule."
)
KEPT_INNER_PREFIX = "Joining a and '##b' drops the '##' of the second part: '##g' + '##s' = '##gs'."
