//! xtask against the real contracts and the real solc: the committed artifacts are a fresh compile, and the
//! drift check (`cargo xtask artifacts --check`, run by `make lint`) catches a changed source, a missing file
//! and a file whose contract left the list.

mod drift;
