"""Helpers shared by the bench scripts: the reference (HF transformers) captioner with the same weights as ours,
the one timing helper (interleaved calls, optionally phase by phase), FLOP counting and a description of the machine."""
import contextlib, copy, inspect, itertools, json, os, platform, statistics, time
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import torch, torch.nn as nn
from safetensors.torch import save_file
import transformers
from transformers import BertConfig, BertModel, CLIPVisionConfig, CLIPVisionModel, GPT2Config, GPT2LMHeadModel
from dico_nb.tokens import BOS_ID, EOS_ID, PAD_ID, VOCAB_SIZE

# Sizes of the reference architecture (HF names). `vision` is the CLIP trunk: 'stub' keeps only its width (a 1-layer
# stand-in whose weights are loaded but never run), as in bench_decoding.py.
VIT_L14_STUB = dict(hidden_size=1024, intermediate_size=64, num_hidden_layers=1, num_attention_heads=16, image_size=28, patch_size=14)
VIT_B32 = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12, image_size=224, patch_size=32)
VIT_L14 = dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16, image_size=224, patch_size=14)
PAPER = dict(d=512, enc_layers=3, dec_layers=3, heads=8, ffn=2048, enc_positions=512, dec_positions=1024)
TINY = dict(d=32, enc_layers=1, dec_layers=2, heads=2, ffn=64, enc_positions=32, dec_positions=40)  # = dico_nb.model.tiny_config
TINY_VIT = dict(hidden_size=48, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, image_size=32, patch_size=8)  # width != d: the checkpoint has a projection, as the reference's

class Reference(nn.Module):
    "The reference captioner as HF modules: CLIPVisionModel -> Linear -> BertModel -> GPT2LMHeadModel (cross-attention)."
    def __init__(self, vis, proj, bert, gpt):
        super().__init__()
        self.vis, self.proj, self.bert, self.gpt = vis, proj, bert, gpt

    def trunk(self, pixels):  # [B, 3, H, W]
        "CLIP token features before the post-LayerNorm `[B, S, W]` (the reference's `vision_encoder_forward`)."
        return self.vis(pixel_values=pixels).last_hidden_state

    def encode(self, feats):  # [B, S, W]
        "Encoder output `[B, S, D]`: projection, then BERT on the projected tokens."
        return self.bert(inputs_embeds=self.proj(feats)).last_hidden_state

    def generate(self, memory, k, max_len, scores=True, length_penalty=0., record=False):  # memory [B, S, D]
        """transformers' beam search, all `k` beams returned (length penalty 0: ranking by log-prob). `record`: with
        autograd recording, as the reference's `generate_with_backpropagation` (stock `generate` minus its `no_grad`)."""
        bos = torch.full((memory.shape[0], 1), BOS_ID, device=memory.device)  # [B, 1]
        gen = inspect.unwrap(type(self.gpt).generate) if record else type(self.gpt).generate
        with torch.enable_grad() if record else contextlib.nullcontext():
            return gen(self.gpt, input_ids=bos, encoder_hidden_states=memory, num_beams=k, num_return_sequences=k,
                       max_length=max_len, length_penalty=length_penalty, do_sample=False, eos_token_id=EOS_ID,
                       pad_token_id=PAD_ID, use_cache=True, output_scores=scores, return_dict_in_generate=True)

    def without_trunk(self):
        "A frozen copy without the vision tower (the DiCO reference model; the trunk features are shared)."
        vis, self.vis = self.vis, None
        try: ref = copy.deepcopy(self)
        finally: self.vis = vis
        return ref.requires_grad_(False)

def end_captions(gpt:GPT2LMHeadModel, after:float=8., slope:float=0.02, weight:float=2.):
    """Make a random GPT-2 end its captions, bench only: random weights never put EOS in a beam before the length
    limit. Dimension 0 of the learned positions becomes a ramp `slope * (t - after)`, which the residual stream carries
    to the final LayerNorm, and EOS's row of the tied embedding reads it with `weight`: EOS's logit is low for the
    first tokens and grows by ~1 per position (the LayerNorm's scale ~0.03 at init), so a caption ends after about
    `after` tokens, earlier or later with the other dimensions' noise (3-20 tokens at paper size, 5 beams, length
    penalty 0). In place; returns `gpt`."""
    with torch.no_grad():
        wpe = gpt.transformer.wpe.weight                                        # [P, D]
        wpe[:, 0] = slope * (torch.arange(len(wpe), dtype=wpe.dtype) - after)
        gpt.transformer.wte.weight[EOS_ID, 0] = weight                          # tied: the LM head's EOS row
    return gpt

def reference_checkpoint(path, vision=VIT_L14_STUB, sizes=PAPER, vocab=VOCAB_SIZE, seed=0, ends=False) -> Reference:
    """Reference encoder/decoder with random weights, saved in the released checkpoint layout at `path`; returns its
    modules. `ends`: a decoder that ends its captions (`end_captions`)."""
    torch.manual_seed(seed)
    s = sizes
    vis = CLIPVisionModel(CLIPVisionConfig(**vision)).eval()  # hidden_act quick_gelu (OpenAI CLIP's)
    proj = nn.Linear(vision['hidden_size'], s['d'])
    bert = BertModel(BertConfig(vocab_size=8, hidden_size=s['d'], num_hidden_layers=s['enc_layers'], num_attention_heads=s['heads'],
                                intermediate_size=s['ffn'], max_position_embeddings=s['enc_positions'])).eval()
    gpt = GPT2LMHeadModel(GPT2Config(vocab_size=vocab, n_embd=s['d'], n_layer=s['dec_layers'], n_head=s['heads'], n_inner=s['ffn'],
                                     n_positions=s['dec_positions'], add_cross_attention=True, bos_token_id=BOS_ID,
                                     eos_token_id=EOS_ID, pad_token_id=PAD_ID)).eval()
    if ends: end_captions(gpt)
    sd = {**{'encoder.vision_encoder.' + k: v for k, v in vis.state_dict().items()},
          **{'encoder.vis_enc_to_enc_proj.' + k: v for k, v in proj.state_dict().items()},
          **{'encoder.encoder.' + k: v for k, v in bert.state_dict().items()},
          **{'decoder.' + k: v for k, v in gpt.state_dict().items() if k != 'lm_head.weight'}}  # tied to wte
    cfg = {'model_type': 'vision-encoder-decoder', 'decoder_start_token_id': BOS_ID, 'pad_token_id': PAD_ID,
           'encoder': {'model_type': 'vision-encoder-encoder', 'vision_encoder': vis.config.to_dict(),
                       'encoder': bert.config.to_dict()},
           'decoder': gpt.config.to_dict()}
    path = Path(path)
    (path/'config.json').write_text(json.dumps(cfg))
    save_file({k: v.contiguous() for k, v in sd.items()}, str(path/'model.safetensors'))
    return Reference(vis, proj, bert, gpt).eval()

def decoding_setup(path, vision=VIT_L14_STUB, sizes=PAPER, batch=32, seed=1, ends=False):
    """Our `Captioner` and the `Reference` with the same weights, and one encoder output `[B, S, D]` for both to decode
    from. `ends`: a decoder that ends its captions (`end_captions`)."""
    from dico_nb.convert import load_captioner
    ref = reference_checkpoint(path, vision, sizes, ends=ends)
    model = load_captioner(path)
    torch.manual_seed(seed)
    S = (vision['image_size'] // vision['patch_size']) ** 2 + 1
    feats = torch.randn(batch, S, vision['hidden_size'])  # [B, S, W] stand-in for the trunk's tokens
    with torch.no_grad(): memory = model.encode(feats=feats)  # [B, S, D]
    return model, ref, memory

def beam_agreement(ours, theirs, batch, beams) -> dict:
    "How far our `Beams` and transformers' `generate` output agree: same top beam, same k beams, log-prob gap."
    hf = theirs.sequences.view(batch, beams, -1)  # [B, k, L']
    L = min(hf.shape[-1], ours.tokens.shape[-1])
    out = dict(top1=(hf[:, 0, :L] == ours.tokens[:, 0, :L]).all(-1).float().mean().item(),
               all=(hf[..., :L] == ours.tokens[..., :L]).all(-1).float().mean().item())
    if getattr(theirs, 'sequences_scores', None) is not None:
        out['logprob_diff'] = (theirs.sequences_scores.view(batch, beams) - ours.logprobs).abs().max().item()
    return out

# --- timing (the one helper) --------------------------------------------------------------------------------------
def sync(device):
    "Wait for queued GPU work (no-op on CPU)."
    if torch.device(device).type == 'cuda': torch.cuda.synchronize()

class Phases:
    "Wall time of named phases: `start()` before a call, then `mark(name)` as each phase ends (a step's `mark` hook)."
    def __init__(self, device='cpu'): self.device, self.runs = device, []
    def start(self): sync(self.device); self.runs.append({}); self.t = time.perf_counter()
    def __call__(self, name):
        sync(self.device); t = time.perf_counter(); self.runs[-1][name] = self.runs[-1].get(name, 0.) + t - self.t; self.t = t
    def medians(self) -> dict:
        "Median seconds of each phase over the calls."
        return {n: statistics.median(r.get(n, 0.) for r in self.runs) for n in self.runs[-1]} if self.runs else {}

def interleaved(fns:dict, repeats:int, device='cpu', warmup:int=1, phases:dict=None) -> dict:
    """Seconds per call `{name: [repeats]}`; calls alternate A B, B A, ... so that load from other jobs hits all alike.
    `phases`: `{name: Phases}` for functions that mark their phases (each timed call starts a new row of it)."""
    phases = phases or {}
    for _ in range(warmup):
        for f in fns.values(): f()
    ts, names = {n: [] for n in fns}, list(fns)
    for r in range(repeats):
        for n in (names if r % 2 == 0 else names[::-1]):
            if n in phases: phases[n].start()
            sync(device); t0 = time.perf_counter(); fns[n](); sync(device); ts[n].append(time.perf_counter() - t0)
    return ts

# --- FLOPs and the machine ---------------------------------------------------------------------------------------
def count_flops(f) -> int:
    "FLOPs of one call of `f` counted by torch's FlopCounterMode (matmuls, convolutions, GPU attention kernels)."
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as fc: f()
    return fc.get_total_flops()

# dense tensor-core peak TFLOP/s (bf16/fp16, no sparsity), by substring of the device name
GPU_PEAK_TFLOPS = {'H200': 989, 'H100 PCIe': 756, 'H100': 989, 'A100': 312, 'L40S': 362, 'L4': 121, 'V100': 125, 'T4': 65}

def gpu_peak_tflops(override:float=0.) -> float:
    "Peak bf16/fp16 TFLOP/s of the current GPU (0 if unknown)."
    if override: return override
    name = torch.cuda.get_device_name()
    return next((v for k, v in GPU_PEAK_TFLOPS.items() if k in name), 0.)

def cpu_peak_gflops(n:int=2048, repeats:int=5) -> float:
    "This core's measured fp32 matmul peak: GFLOP/s of the fastest of `repeats` [n, n] @ [n, n] products (torch's threads as set)."
    x, y = torch.randn(n, n), torch.randn(n, n)
    x @ y                                                                        # warm-up
    best = min(timed(lambda: x @ y) for _ in range(repeats))
    return 2 * n ** 3 / best / 1e9

def timed(f) -> float:
    "Seconds of one call of `f`."
    t0 = time.perf_counter(); f(); return time.perf_counter() - t0

def cpu_model() -> str:
    "CPU model name from /proc/cpuinfo (or platform)."
    try: return next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration): return platform.processor() or platform.machine()

def machine(device='cpu') -> str:
    "One line describing where the numbers come from."
    import open_clip
    dev = torch.cuda.get_device_name() if torch.device(device).type == 'cuda' else f'CPU {cpu_model()}'
    return (f'{dev}, {os.cpu_count()} logical CPUs, torch {torch.__version__} with {torch.get_num_threads()} thread(s), '
            f'transformers {transformers.__version__}, open_clip {open_clip.__version__}, Python {platform.python_version()}')

# --- stand-in data --------------------------------------------------------------------------------------------------
def amp_ctx(device, amp):
    "Autocast on CUDA (bf16/fp16), nothing on CPU."
    if torch.device(device).type != 'cuda' or amp == 'none': return contextlib.nullcontext()
    return torch.autocast('cuda', dtype=torch.bfloat16 if amp == 'bf16' else torch.float16)

def images(size, n=8, seed=0):
    "CLIP-normalised stand-in images `[n, 3, H, W]`."
    return torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(seed))

_calls = itertools.count()
def fresh_keys(n=8):
    "Sample keys never seen before (so a reward's image-feature cache never hits, as within a COCO epoch)."
    c = next(_calls); return [f'{c}__img{i}' for i in range(n)]

def captions(n=8, max_len=20, seed=0):
    "Random captions `[n, max_len]`: BOS, 9..max_len-2 word ids, EOS, padding."
    g = torch.Generator().manual_seed(seed)
    out = torch.full((n, max_len), PAD_ID)
    for i in range(n):
        m = int(torch.randint(9, max_len - 1, (1,), generator=g))
        out[i, 0], out[i, 1:m + 1], out[i, m + 1] = BOS_ID, torch.randint(0, 49406, (m,), generator=g), EOS_ID
    return out
