"""Beam search (5 beams, all returned) from one encoder output: `dico_nb.decoding.beam_search` against transformers'
`generate` (no autograd), same weights. Paper size decodes from 257 encoder tokens (ViT-L/14's), the trunk not run."""
import tempfile
from common import decoding_setup, beam_agreement, interleaved, count_flops, amp_ctx, TINY, TINY_VIT, PAPER, VIT_L14_STUB
from dico_nb.decoding import beam_search

B, K = 8, 5

def bench_beams(size, repeats, device='cpu', amp='none', max_len=20, length_penalty=0., **kw) -> dict:
    "Seconds per batch of 8 images, ours (`beam_search(**kw)`) vs `generate`, after checking that the beams agree."
    vision, sizes = (TINY_VIT, TINY) if size == 'tiny' else (VIT_L14_STUB, PAPER)
    with tempfile.TemporaryDirectory() as d: model, ref, memory = decoding_setup(d, vision, sizes, batch=B)
    model, ref, memory = model.to(device), ref.to(device), memory.to(device)
    def ours():
        with amp_ctx(device, amp): return beam_search(model, memory, K, max_len, length_penalty, **kw)
    def peer():
        with amp_ctx(device, amp): return ref.generate(memory, K, max_len, scores=False, length_penalty=length_penalty)
    agree = beam_agreement(ours(), ref.generate(memory, K, max_len, length_penalty=length_penalty), B, K)  # also the warm-up
    if length_penalty: agree.pop('logprob_diff', None)  # transformers' `sequences_scores` are then length-normalised
    return dict(flops=count_flops(ours), ts=interleaved(dict(ours=ours, peer=peer), repeats, device, warmup=0),
                check=agree, items=B * K)
