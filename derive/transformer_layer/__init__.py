"""One Transformer layer as a chain of sublayers, shared by the encoder- and decoder-layer topics.

A layer is a chain of sublayers (self-attention, cross-attention, the FFN). Sublayer k reads u_k and
adds its output to the stream: r_k = stream + out_k. Post-LN (Vaswani, BERT) normalises each sum, so
u_1 = x, u_k = LN(r_(k-1)) is also the stream, and y = LN(r_last). Pre-LN (GPT-2) normalises a copy for
each sublayer, so u_1 = LN(x), u_k = LN(r_(k-1)), the stream is r_(k-1) itself, and y = r_last. The
answer ids (``<sublayer>_input``, ``<sublayer>``, ``residual<k>``, ``output``) are therefore the same,
in the same order, in both orders of normalisation; only their formulas differ.

Modules: ``stream`` (the chain of stages along the residual stream, and LayerNorm's explanation),
``attention`` and ``feed_forward`` (the sublayers), ``inputs`` (the options and weights both topics
take) and ``reference`` (random inputs and derive.forward's answers, for the test suite).

Values stay exact SymPy while their forms stay small: attention weights are e^(s)/Σ e^(s), and the
LayerNorm of a row of rationals is a rational over a square root. The LayerNorm of a row that already
holds exponentials or roots would nest them again at every later step (tens of thousands of characters
per entry, minutes to evaluate), so such rows, and any exact sum longer than BIG nodes (attention over
many tokens), are carried as 50-significant-digit decimals instead (``derive.exact.precision``).
"""
