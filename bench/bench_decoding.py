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
Ours: `beam_search(model, memory, k, max_len)` (cross-attention keys/values once per image, shared by its beams).
Both use length penalty 0 (ranking by sequence log-prob), max length 20 tokens including BOS.
Also prints the agreement of the returned beams and the memory size of the paper-size model with a ViT-L-14 trunk.
"""
import json, os, platform, tempfile, time
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import torch, torch.nn as nn
from fastcore.script import call_parse
from safetensors.torch import save_file
import transformers
from transformers import BertConfig, BertModel, CLIPVisionConfig, CLIPVisionModel, GPT2Config, GPT2LMHeadModel
from dico_nb.data import BOS_ID, EOS_ID, PAD_ID, VOCAB_SIZE
from dico_nb.model import Captioner, param_count
from dico_nb.decoding import beam_search

def reference_checkpoint(path, seed=0):
    "Paper-size reference encoder/decoder with random weights, saved in the released layout; returns the GPT-2."
    torch.manual_seed(seed)
    vis = CLIPVisionModel(CLIPVisionConfig(hidden_size=1024, intermediate_size=64, num_hidden_layers=1,
                                           num_attention_heads=16, image_size=28, patch_size=14))
    proj = nn.Linear(1024, 512)
    bert = BertModel(BertConfig(vocab_size=8, hidden_size=512, num_hidden_layers=3, num_attention_heads=8,
                                intermediate_size=2048))
    gpt = GPT2LMHeadModel(GPT2Config(vocab_size=VOCAB_SIZE, n_embd=512, n_layer=3, n_head=8, n_inner=2048,
                                     add_cross_attention=True, bos_token_id=BOS_ID, eos_token_id=EOS_ID,
                                     pad_token_id=PAD_ID)).eval()
    sd = {**{'encoder.vision_encoder.' + k: v for k, v in vis.state_dict().items()},
          **{'encoder.vis_enc_to_enc_proj.' + k: v for k, v in proj.state_dict().items()},
          **{'encoder.encoder.' + k: v for k, v in bert.state_dict().items()},
          **{'decoder.' + k: v for k, v in gpt.state_dict().items() if k != 'lm_head.weight'}}  # tied to wte
    cfg = {'model_type': 'vision-encoder-decoder', 'decoder_start_token_id': BOS_ID, 'pad_token_id': PAD_ID,
           'encoder': {'model_type': 'vision-encoder-encoder', 'vision_encoder': vis.config.to_dict(),
                       'encoder': bert.config.to_dict()},
           'decoder': gpt.config.to_dict()}
    (path/'config.json').write_text(json.dumps(cfg))
    save_file({k: v.contiguous() for k, v in sd.items()}, str(path/'model.safetensors'))
    return gpt

def timed(f, repeats):
    "Best wall time of `repeats` calls, and the last result."
    best = float('inf')
    for _ in range(repeats):
        t = time.perf_counter(); out = f(); best = min(best, time.perf_counter() - t)
    return best, out

@call_parse
def main(batch:int=32,     # images per batch
         beams:int=5,      # beams, all returned
         max_len:int=20,   # maximum length, BOS included
         repeats:int=1,    # timed runs per side after a warm-up (best is reported)
         threads:int=0):   # torch threads (0: torch's default)
    "Time 5-beam decoding, ours vs transformers, on the same weights and encoder output."
    if threads: torch.set_num_threads(threads)
    transformers.logging.set_verbosity_error()
    from pathlib import Path
    with tempfile.TemporaryDirectory() as d:
        gpt = reference_checkpoint(Path(d))
        model = Captioner.from_pretrained(d)
    torch.manual_seed(1)
    feats = torch.randn(batch, 257, 1024)  # [B, 257, 1024] stand-in for ViT-L/14 tokens
    with torch.no_grad(): memory = model.encode(feats=feats)  # [B, 257, 512]
    bos = torch.full((batch, 1), BOS_ID)

    def ours(): return beam_search(model, memory, k=beams, max_len=max_len)
    def theirs(scores=False):
        with torch.no_grad():
            return gpt.generate(input_ids=bos, encoder_hidden_states=memory, num_beams=beams,
                                num_return_sequences=beams, max_length=max_len, length_penalty=0.,
                                do_sample=False, eos_token_id=EOS_ID, pad_token_id=PAD_ID, use_cache=True,
                                output_scores=scores, return_dict_in_generate=True)
    b, g = ours(), theirs(scores=True)  # warm-up, and the outputs compared below (scores kept only here)
    t_ours, _ = timed(ours, repeats)
    t_hf, _ = timed(theirs, repeats)

    hf_seqs = g.sequences.view(batch, beams, -1)
    L = min(hf_seqs.shape[-1], b.tokens.shape[-1])
    same_top1 = (hf_seqs[:, 0, :L] == b.tokens[:, 0, :L]).all(-1).float().mean().item()
    same_all = (hf_seqs[..., :L] == b.tokens[..., :L]).all(-1).float().mean().item()
    score_diff = (g.sequences_scores.view(batch, beams) - b.logprobs).abs().max().item()

    pc = param_count()
    n = sum(pc.values())
    print(f'{platform.processor() or platform.machine()}, torch {torch.__version__} ({torch.get_num_threads()} threads), '
          f'transformers {transformers.__version__}, load average {os.getloadavg()[0]:.1f}')
    print(f'batch {batch}, beams {beams} (all returned), max length {max_len}, decoder 3x512, vocab {VOCAB_SIZE}')
    for name, t in (('ours', t_ours), ('transformers', t_hf)):
        print(f'{name+":":14}{t:6.2f} s/batch  {batch/t:7.2f} images/s ({batch*beams/t:7.1f} beam captions/s)')
    print(f'speed ratio ours/transformers: {t_hf/t_ours:.2f}x')
    print(f'agreement: top beam identical for {same_top1:.0%} of images, all {beams} beams for {same_all:.0%}; '
          f'max |log-prob difference| {score_diff:.2e}')
    print(f'paper-size model with ViT-L-14 trunk: trunk {pc["trunk"]/1e6:.1f}M + encoder {pc["encoder"]/1e6:.1f}M + '
          f'decoder {pc["decoder"]/1e6:.1f}M = {n/1e6:.1f}M params; {n*4/2**20:.0f} MiB fp32, {n*2/2**20:.0f} MiB fp16 '
          f'(trainable encoder+decoder {(pc["encoder"]+pc["decoder"])*4/2**20:.0f} MiB fp32)')
