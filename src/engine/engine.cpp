// Bootstrap engine: accepts configuration but moves no traffic yet.  The
// data-plane work replaces this file with the threaded engine.
#include "engine/engine.h"

#include <cerrno>

namespace knet::engine {

struct Engine::Impl {};

Engine::Engine(core::Handle& h) : h_(h), impl_(std::make_unique<Impl>()) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::start(core::Handle& h) {
    return std::unique_ptr<Engine>(new Engine(h));
}

Status Engine::link_configured(core::Host&, core::Link&) { return {}; }
void Engine::link_cleared(core::Host&, core::Link&) {}
void Engine::link_changed(core::Host&, core::Link&) {}
void Engine::host_added(core::Host&) {}
void Engine::host_removed(core::Host&) {}
void Engine::policy_changed(core::Host&) {}
void Engine::datafd_added(int) {}
void Engine::datafd_removed(int) {}
Status Engine::crypto_changed() { return {}; }
Status Engine::compress_changed() { return {}; }
void Engine::pmtud_changed() {}
void Engine::forwarding_changed() {}
Status Engine::send_sync(const char*, size_t, int8_t) { return Error{ENETUNREACH}; }

}  // namespace knet::engine
