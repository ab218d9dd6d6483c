#!/usr/bin/env python
"""5-beam decoding at paper size on CPU: `dico_nb.decoding.beam_search` vs transformers' `generate`, same weights.

The reference architecture is built with transformers classes (BertModel encoder 3x512, GPT2LMHeadModel decoder
3x512 with cross-attention, vocabulary 49409) with random weights, saved in the released checkpoint layout, and
loaded into our `Captioner` through the converter, so both sides hold the same weights. The visual trunk is not
run: both decode from the same precomputed encoder output (B images x 257 tokens, what a ViT-L/14 trunk + the
projection + BERT produce), so the numbers are about decoding only. (The checkpoint's CLIP part is a 1-layer
stand-in of ViT-L/14's width, never used here.)

transformers: `gpt2.generate(num_beams=k, num_return_sequences=k, max_length, length_penalty=0)`, fed the
encoder output as `encoder_hidden_states` (it copies it per beam and caches cross-attention keys/values).
Ours: `beam_search(model, memory, k, max_len, length_penalty=0)` (cross-attention keys/values once per image, shared by its beams).
Both use length penalty 0 (ranking by sequence log-prob), max length 20 tokens including BOS.
Also prints the agreement of the returned beams and the memory size of the paper-size model with a ViT-L-14 trunk.
"""
import os, platform, sys, tempfile
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import decoding_setup, beam_agreement, interleaved  # sets HF_HUB_OFFLINE=1
import torch
from fastcore.script import call_parse
import transformers
from dico_nb.tokens import VOCAB_SIZE
from dico_nb.model import param_count
from dico_nb.decoding import beam_search

@call_parse
def main(batch:int=32,     # images per batch
         beams:int=5,      # beams, all returned
         max_len:int=20,   # maximum length, BOS included
         repeats:int=1,    # timed runs per side after a warm-up, interleaved (the fastest is reported)
         threads:int=0):   # torch threads (0: torch's default)
    "Time 5-beam decoding, ours vs transformers, on the same weights and encoder output."
    if threads: torch.set_num_threads(threads)
    transformers.logging.set_verbosity_error()
    with tempfile.TemporaryDirectory() as d:
        model, ref, memory = decoding_setup(Path(d), batch=batch)  # ViT-L/14 width, memory [B, 257, 512]

    def ours(): return beam_search(model, memory, k=beams, max_len=max_len, length_penalty=0.)  # as the peer's `generate`
    def theirs(scores=False): return ref.generate(memory, beams, max_len, scores)
    b, g = ours(), theirs(scores=True)  # warm-up, and the outputs compared below (scores kept only here)
    ts = interleaved(dict(ours=ours, theirs=theirs), repeats, warmup=0)
    t_ours, t_hf = min(ts['ours']), min(ts['theirs'])

    agree = beam_agreement(b, g, batch, beams)

    pc = param_count()
    n = sum(pc.values())
    print(f'{platform.processor() or platform.machine()}, torch {torch.__version__} ({torch.get_num_threads()} threads), '
          f'transformers {transformers.__version__}, load average {os.getloadavg()[0]:.1f}')
    print(f'batch {batch}, beams {beams} (all returned), max length {max_len}, decoder 3x512, vocab {VOCAB_SIZE}')
    for name, t in (('ours', t_ours), ('transformers', t_hf)):
        print(f'{name+":":14}{t:6.2f} s/batch  {batch/t:7.2f} images/s ({batch*beams/t:7.1f} beam captions/s)')
    print(f'speed ratio ours/transformers: {t_hf/t_ours:.2f}x')
    print(f'agreement: top beam identical for {agree["top1"]:.0%} of images, all {beams} beams for {agree["all"]:.0%}; '
          f'max |log-prob difference| {agree["logprob_diff"]:.2e}')
    print(f'paper-size model with ViT-L-14 trunk: trunk {pc["trunk"]/1e6:.1f}M + encoder {pc["encoder"]/1e6:.1f}M + '
          f'decoder {pc["decoder"]/1e6:.1f}M = {n/1e6:.1f}M params; {n*4/2**20:.0f} MiB fp32, {n*2/2**20:.0f} MiB fp16 '
          f'(trainable encoder+decoder {(pc["encoder"]+pc["decoder"])*4/2**20:.0f} MiB fp32)')
