/* The general cells (see cells.h). */
#include "cells.h"

#include <math.h>

#include "vector_math.h"

/* Activation slot k of x; clip bounds the input of the gate activations (slots 0 and 1), not the
 * LSTM output activation h(c_t) (slot 2), as ONNX Runtime computes it. */
float activate(const cell_options_t *o, int k, float x) {
    if (o->clip > 0.0f && k < 2) x = x > o->clip ? o->clip : (x < -o->clip ? -o->clip : x);
    const float a = o->alpha[k], b = o->beta[k];
    switch (o->code[k]) {
    case ACT_SIGMOID: return sigmoid_f(x);
    case ACT_TANH: return tanh_f(x);
    case ACT_RELU: return x > 0.0f ? x : 0.0f;
    case ACT_AFFINE: return a * x + b;
    case ACT_LEAKY_RELU: return x >= 0.0f ? x : a * x;
    case ACT_THRESHOLDED_RELU: return x >= a ? x : 0.0f;
    case ACT_SCALED_TANH: return a * tanh_f(b * x);
    case ACT_HARD_SIGMOID: {
        const float v = a * x + b;
        return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
    }
    case ACT_ELU: return x >= 0.0f ? x : a * expm1f(x);
    case ACT_SOFTSIGN: return x / (1.0f + fabsf(x));
    default: return x > 20.0f ? x + log1pf(expf(-x)) : log1pf(expf(x)); /* ACT_SOFTPLUS, no overflow */
    }
}

/* LSTM update of br units with general options; u0 is the row-block's first unit (peepholes). */
void general_lstm(const cell_options_t *o, int br, int u0, int H, const float *gx, const float *acc,
                         float *c, float *m) {
    const float *p = o->peep;
    for (int u = 0; u < br; u++) {
        const float cp = c[u];
        float gi = gx[u] + acc[u], gf = gx[br + u] + acc[br + u];
        const float gg = gx[2 * br + u] + acc[2 * br + u];
        float go = gx[3 * br + u] + acc[3 * br + u];
        if (p) {
            gi += p[u0 + u] * cp;
            gf += p[H + u0 + u] * cp;
        }
        const float i = activate(o, 0, gi);
        const float f = o->input_forget ? 1.0f - i : activate(o, 0, gf);
        const float cn = f * cp + i * activate(o, 1, gg);
        if (p) go += p[2 * H + u0 + u] * cn;
        c[u] = cn;
        m[u] = activate(o, 0, go) * activate(o, 2, cn);
    }
}

/* GRU update with general options: gates gs apart; reset_before: acc's candidate rows hold
 * W_hn (r * h) + b_hn already, else the reset gate scales them here. */
void general_gru(const cell_options_t *o, int reset_before, int br, int gs, const float *gx,
                        const float *acc, const float *hp, float *h) {
    for (int u = 0; u < br; u++) {
        const float z = activate(o, 0, gx[gs + u] + acc[gs + u]);
        const float candidate_h = reset_before ? acc[2 * gs + u] : activate(o, 0, gx[u] + acc[u]) * acc[2 * gs + u];
        const float n = activate(o, 1, gx[2 * gs + u] + candidate_h);
        h[u] = (1.0f - z) * n + z * hp[u];
    }
}
