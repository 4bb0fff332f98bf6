/* Values other than tensors through xrt_session_run_values on the ONNX
 * Runtime plugin: string tensors, sequences, optionals and maps in and out,
 * output trees released with one call, and malformed trees (NULL children,
 * counts that lie, unknown kinds, cycles) refused with typed errors; failing
 * runs in a loop leak nothing (checked under valgrind). */
#include <stdlib.h>

#include "check.h"

static xrt_device_t* cpu;

static xrt_value_t node(xrt_value_kind_t kind) {
  xrt_value_t v;
  memset(&v, 0, sizeof v);
  v.struct_size = sizeof v;
  v.kind = kind;
  return v;
}

/* The model's four inputs, pointing into caller storage. */
typedef struct {
  xrt_tensor_t* item0;
  xrt_tensor_t* item1;
  xrt_tensor_t* scores;
  int64_t words_shape[1];
  const char* words_text[3];
  size_t words_length[3];
  xrt_value_t words, items, maybe, scores_value, item_values[2];
  const xrt_value_t* item_ptrs[2];
  const xrt_value_t* inputs[4];
} Feed;

static void feed_init(Feed* f) {
  const int64_t three[1] = {3}, one[1] = {1}, rows[2] = {2, 2};
  const float scores[4] = {0.25f, 0.75f, 1.0f, 0.0f};
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT32, 1, three, &f->item0));
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT32, 1, one, &f->item1));
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT32, 2, rows, &f->scores));
  xrt_tensor_info_t info = {sizeof info};
  CHECK_OK(xrt_tensor_info(f->scores, &info));
  memcpy(info.data, scores, sizeof scores);
  f->words_shape[0] = 3;
  f->words_text[0] = "alpha";
  f->words_text[1] = "b\0c"; /* an embedded NUL survives: lengths, not terminators */
  f->words_text[2] = "";
  f->words_length[0] = 5;
  f->words_length[1] = 3;
  f->words_length[2] = 0;
  f->words = node(XRT_VALUE_STRINGS);
  f->words.ndim = 1;
  f->words.shape = f->words_shape;
  f->words.strings = f->words_text;
  f->words.lengths = f->words_length;
  f->item_values[0] = node(XRT_VALUE_TENSOR);
  f->item_values[0].tensor = f->item0;
  f->item_values[1] = node(XRT_VALUE_TENSOR);
  f->item_values[1].tensor = f->item1;
  f->item_ptrs[0] = &f->item_values[0];
  f->item_ptrs[1] = &f->item_values[1];
  f->items = node(XRT_VALUE_SEQUENCE);
  f->items.items = f->item_ptrs;
  f->items.num_items = 2;
  f->maybe = node(XRT_VALUE_OPTIONAL); /* none */
  f->scores_value = node(XRT_VALUE_TENSOR);
  f->scores_value.tensor = f->scores;
  f->inputs[0] = &f->words;
  f->inputs[1] = &f->items;
  f->inputs[2] = &f->maybe;
  f->inputs[3] = &f->scores_value;
}

static void feed_release(Feed* f) {
  xrt_tensor_release(f->item0);
  xrt_tensor_release(f->item1);
  xrt_tensor_release(f->scores);
}

static const char* kNames[4] = {"words", "items", "maybe", "scores"};

static float scalar_float(const xrt_value_t* v) {
  xrt_tensor_info_t info = {sizeof info};
  CHECK_OK(xrt_tensor_info(v->tensor, &info));
  return info.data ? *(const float*)info.data : -1.0f;
}

static void check_good_run(xrt_session_t* session) {
  Feed f;
  feed_init(&f);
  xrt_value_t* out[4] = {NULL, NULL, NULL, NULL};
  CHECK_OK(xrt_session_run_values(session, NULL, kNames, f.inputs, 4, NULL, 4, out));
  if (out[0] && out[1] && out[2] && out[3]) {
    const xrt_value_t* words = out[0];
    CHECK(words->kind == XRT_VALUE_STRINGS && words->ndim == 1 && words->shape[0] == 3);
    CHECK(words->lengths[0] == 5 && memcmp(words->strings[0], "alpha", 5) == 0);
    CHECK(words->lengths[1] == 3 && memcmp(words->strings[1], "b\0c", 3) == 0);
    CHECK(words->lengths[2] == 0);
    xrt_tensor_info_t info = {sizeof info};
    CHECK(out[1]->kind == XRT_VALUE_TENSOR);
    CHECK_OK(xrt_tensor_info(out[1]->tensor, &info));
    CHECK(info.dtype == XRT_INT64 && *(const int64_t*)info.data == 2);
    CHECK_OK(xrt_tensor_info(out[2]->tensor, &info));
    CHECK(info.dtype == XRT_BOOL && *(const uint8_t*)info.data == 0);
    const xrt_value_t* labelled = out[3];
    CHECK(labelled->kind == XRT_VALUE_SEQUENCE && labelled->num_items == 2);
    const xrt_value_t* first = labelled->items[0];
    CHECK(first->kind == XRT_VALUE_MAP && first->num_items == 2);
    const xrt_value_t* keys = first->items[0];
    CHECK_OK(xrt_tensor_info(keys->tensor, &info));
    CHECK(info.dtype == XRT_INT64 && info.shape[0] == 2 && ((const int64_t*)info.data)[1] == 9);
    CHECK(scalar_float(first->items[1]) == 0.25f);
  }
  for (int i = 0; i < 4; ++i) xrt_value_release(out[i]);
  xrt_value_release(NULL);

  /* Some outputs by name, with run options. */
  xrt_run_options_t* options = NULL;
  CHECK_OK(xrt_run_options_create(&options));
  const char* wanted[1] = {"count"};
  xrt_value_t* count = NULL;
  CHECK_OK(xrt_session_run_values(session, options, kNames, f.inputs, 4, wanted, 1, &count));
  xrt_value_release(count);
  CHECK_OK(xrt_run_options_set_terminate(options, 1));
  count = NULL;
  CHECK_ERROR(xrt_session_run_values(session, options, kNames, f.inputs, 4, wanted, 1, &count),
              XRT_ERROR_BACKEND, "stopped");
  CHECK(count == NULL);
  xrt_run_options_release(options);
  feed_release(&f);
}

/* One input of the feed replaced by `bad`; the run must fail naming it. */
static void expect_refused(xrt_session_t* session, int slot, const xrt_value_t* bad,
                           xrt_status_t status, const char* words) {
  Feed f;
  feed_init(&f);
  f.inputs[slot] = bad;
  xrt_value_t* out[4] = {NULL, NULL, NULL, NULL};
  CHECK_ERROR(xrt_session_run_values(session, NULL, kNames, f.inputs, 4, NULL, 4, out), status,
              words);
  CHECK(!out[0] && !out[1] && !out[2] && !out[3]);
  feed_release(&f);
}

static void check_bad_trees(xrt_session_t* session, int rounds) {
  const int64_t two[1] = {2};
  xrt_tensor_t* ints = NULL;
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_INT64, 1, two, &ints));
  for (int r = 0; r < rounds; ++r) {
    expect_refused(session, 1, NULL, XRT_ERROR_INVALID_ARGUMENT, "input 'items' is NULL");
    xrt_value_t unknown = node((xrt_value_kind_t)99);
    expect_refused(session, 1, &unknown, XRT_ERROR_INVALID_ARGUMENT, "unknown value kind 99");
    xrt_value_t small = node(XRT_VALUE_SEQUENCE);
    small.struct_size = 8;
    expect_refused(session, 1, &small, XRT_ERROR_INVALID_ARGUMENT, "xrt_value_t");
    xrt_value_t lying = node(XRT_VALUE_SEQUENCE);
    lying.num_items = 5; /* items NULL */
    expect_refused(session, 1, &lying, XRT_ERROR_INVALID_ARGUMENT, "5 items but NULL items");
    const xrt_value_t* null_child[1] = {NULL};
    xrt_value_t hole = node(XRT_VALUE_SEQUENCE);
    hole.items = null_child;
    hole.num_items = 1;
    expect_refused(session, 1, &hole, XRT_ERROR_INVALID_ARGUMENT, "input 'items' item 0 is NULL");
    xrt_value_t cycle = node(XRT_VALUE_SEQUENCE);
    const xrt_value_t* self[1] = {&cycle};
    cycle.items = self;
    cycle.num_items = 1;
    expect_refused(session, 1, &cycle, XRT_ERROR_INVALID_ARGUMENT, "nests deeper");
    xrt_value_t int_item = node(XRT_VALUE_TENSOR);
    int_item.tensor = ints;
    const xrt_value_t* int_items[1] = {&int_item};
    xrt_value_t wrong_type = node(XRT_VALUE_SEQUENCE);
    wrong_type.items = int_items;
    wrong_type.num_items = 1;
    expect_refused(session, 1, &wrong_type, XRT_ERROR_INVALID_ARGUMENT,
                   "input 'items' is seq(tensor(int64)), the model expects seq(tensor(float))");
    xrt_value_t null_tensor = node(XRT_VALUE_TENSOR);
    expect_refused(session, 3, &null_tensor, XRT_ERROR_INVALID_ARGUMENT, "NULL tensor");
    xrt_value_t no_strings = node(XRT_VALUE_STRINGS);
    no_strings.ndim = 1;
    no_strings.shape = two;
    expect_refused(session, 0, &no_strings, XRT_ERROR_INVALID_ARGUMENT, "NULL strings");
    xrt_value_t three_items = node(XRT_VALUE_MAP);
    const xrt_value_t* map_items[3] = {&int_item, &int_item, &int_item};
    three_items.items = map_items;
    three_items.num_items = 3;
    expect_refused(session, 1, &three_items, XRT_ERROR_INVALID_ARGUMENT, "a map has 2");
    xrt_value_t two_optional = node(XRT_VALUE_OPTIONAL);
    two_optional.items = map_items;
    two_optional.num_items = 2;
    expect_refused(session, 2, &two_optional, XRT_ERROR_INVALID_ARGUMENT, "holds 0 or 1");
    xrt_value_t strings_for_tensor = node(XRT_VALUE_SEQUENCE);
    expect_refused(session, 3, &strings_for_tensor, XRT_ERROR_INVALID_ARGUMENT,
                   "input 'scores' is seq(?), the model expects tensor(float)");
    xrt_value_t empty = node(XRT_VALUE_SEQUENCE);
    expect_refused(session, 1, &empty, XRT_ERROR_UNSUPPORTED, "empty sequence");
  }
  xrt_tensor_release(ints);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL_DIR\n", argv[0]);
    return 2;
  }
  const int rounds = getenv("XRT_TEST_ROUNDS") ? atoi(getenv("XRT_TEST_ROUNDS")) : 200;
  char path[4096];
  snprintf(path, sizeof path, "%s/values.onnx", argv[1]);
  CHECK_OK(xrt_device_by_name("cpu", &cpu));
  xrt_session_t* session = NULL;
  CHECK_OK(xrt_session_create(path, NULL, 0, "onnxruntime", cpu, NULL, 0, &session));
  if (!session) return check_report("session_values");

  xrt_value_info_t info = {sizeof info};
  CHECK_OK(xrt_session_input_info(session, 0, &info));
  CHECK(info.kind == XRT_VALUE_STRINGS && strcmp(info.type, "tensor(string)") == 0);
  CHECK_OK(xrt_session_input_info(session, 1, &info));
  CHECK(info.kind == XRT_VALUE_SEQUENCE && strcmp(info.type, "seq(tensor(float))") == 0);
  CHECK_OK(xrt_session_input_info(session, 2, &info));
  CHECK(info.kind == XRT_VALUE_OPTIONAL && strcmp(info.type, "optional(tensor(float))") == 0);
  CHECK_OK(xrt_session_input_info(session, 3, &info));
  CHECK(info.kind == XRT_VALUE_TENSOR && strcmp(info.type, "tensor(float)") == 0);
  CHECK_OK(xrt_session_output_info(session, 3, &info));
  CHECK(strcmp(info.type, "seq(map(int64,tensor(float)))") == 0 && info.ndim == 0);

  check_good_run(session);
  check_bad_trees(session, rounds);

  /* Tensor-only runs refuse the model's other values, naming them. */
  xrt_tensor_t* out = NULL;
  const xrt_tensor_t* none[1] = {NULL};
  CHECK_ERROR(xrt_session_run(session, kNames, none, 1, NULL, 4, &out), XRT_ERROR_UNSUPPORTED,
              "input 'words' has type tensor(string)");
  xrt_session_release(session);
  return check_report("session_values");
}
