/* The cells beyond PyTorch's (ONNX / Keras options) and the codes of cells and activations. */
#ifndef TSI_CELLS_H
#define TSI_CELLS_H

enum { CELL_LSTM = 0, CELL_GRU = 1 };
/* Activation functions of a general cell (ONNX's list; tsilstm/activations.py documents them). */
enum { ACT_SIGMOID = 0, ACT_TANH = 1, ACT_RELU = 2, ACT_AFFINE = 3, ACT_LEAKY_RELU = 4, ACT_THRESHOLDED_RELU = 5,
       ACT_SCALED_TANH = 6, ACT_HARD_SIGMOID = 7, ACT_ELU = 8, ACT_SOFTSIGN = 9, ACT_SOFTPLUS = 10, ACT_COUNT = 11 };
static const char *const ACTIVATION_NAMES[ACT_COUNT] = {
    "sigmoid", "tanh", "relu", "affine", "leaky_relu", "thresholded_relu", "scaled_tanh", "hard_sigmoid", "elu",
    "softsign", "softplus"};
#define CELL_ACTIVATIONS 3 /* LSTM: f (i, f, o gates), g (candidate), h (output); GRU: f (r, z), g */
/* The options of an ONNX / Keras cell beyond PyTorch's: activations with parameters, clip of every
 * activation's input, coupled input and forget gates, peepholes. Element by element, not vectorised:
 * only cells that use them take this path. */
typedef struct {
    int code[CELL_ACTIVATIONS];
    float alpha[CELL_ACTIVATIONS], beta[CELL_ACTIVATIONS];
    float clip; /* 0: none */
    int input_forget;
    const float *peep; /* [3][H]: i, f, o rows, or NULL */
} cell_options_t;

/* Activation slot k of x (slot 0: gates, 1: candidate, 2: LSTM output), with the options' clip. */
float activate(const cell_options_t *o, int k, float x);

/* LSTM update of br units with general options; u0 is the row-block's first unit (peepholes). */
void general_lstm(const cell_options_t *o, int br, int u0, int H, const float *gx, const float *acc, float *c, float *m);

/* GRU update with general options: gates gs apart; reset_before: acc's candidate rows hold
 * W_hn (r * h) + b_hn already, else the reset gate scales them here. */
void general_gru(const cell_options_t *o, int reset_before, int br, int gs, const float *gx, const float *acc,
                 const float *hp, float *h);

#endif
