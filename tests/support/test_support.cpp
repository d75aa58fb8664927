// Anchors the test support library; the shared helpers live in the other files here.
namespace imagepipe::testing {
int test_support_anchor = 0;
}
