"""Beam search (5 beams, all returned) from one encoder output: `dico_nb.decoding.beam_search` against transformers'
`generate` (no autograd), same weights. Paper size decodes from 257 encoder tokens (ViT-L/14's), the trunk not run.
`ends=True`: a decoder that ends its captions (`common.end_captions`; random weights never do), so that finished
images leave our batch and both searches stop early."""
import tempfile
from common import decoding_setup, beam_agreement, interleaved, count_flops, amp_ctx, TINY, TINY_VIT, PAPER, VIT_L14_STUB
from dico_nb.tokens import EOS_ID, PAD_ID
from dico_nb.decoding import beam_search

B, K = 8, 5

def bench_beams(size, repeats, device='cpu', amp='none', max_len=20, length_penalty=0., ends=False, **kw) -> dict:
    "Seconds per batch of 8 images, ours (`beam_search(**kw)`) vs `generate`, after checking that the beams agree."
    vision, sizes = (TINY_VIT, TINY) if size == 'tiny' else (VIT_L14_STUB, PAPER)
    with tempfile.TemporaryDirectory() as d: model, ref, memory = decoding_setup(d, vision, sizes, batch=B, ends=ends)
    model, ref, memory = model.to(device), ref.to(device), memory.to(device)
    def ours():
        with amp_ctx(device, amp): return beam_search(model, memory, K, max_len, length_penalty, **kw)
    def peer():
        with amp_ctx(device, amp): return ref.generate(memory, K, max_len, scores=False, length_penalty=length_penalty)
    b = ours()                                                                   # also the warm-up
    agree = beam_agreement(b, ref.generate(memory, K, max_len, length_penalty=length_penalty), B, K)
    if length_penalty: agree.pop('logprob_diff', None)  # transformers' `sequences_scores` are then length-normalised
    agree.update(ended=(b.tokens == EOS_ID).any(-1).float().mean().item(), length=(b.tokens != PAD_ID).sum(-1).float().mean().item())
    return dict(flops=count_flops(ours), ts=interleaved(dict(ours=ours, peer=peer), repeats, device, warmup=0),
                check=agree, items=B * K)
