// Command go-broadcast is a minimal line-broadcast server, a peer for
// tavern's benchmarks: every line (LF-terminated) any client sends is
// written to every connected client, the sender included. No telnet, no
// names, no rooms. Standard library only (Go 1.19, Debian 12).
//
// Each client has a bounded queue of lines; a client whose queue is full is
// disconnected, so a client that stops reading cannot stall the others.
// Two ways to write a client's queue to its socket (-mode):
//
//	direct    one conn.Write per line, as it comes
//	buffered  a bufio.Writer (64 KiB) per client, flushed when the queue is
//	          drained (lines that queued up meanwhile go out in one write);
//	          the buffers are pooled, so an idle client holds none
//
// Each client gets "ready\n" once it is a member: lines sent after it has
// arrived reach that client (tavern-load --protocol raw --ready-marker ready).
package main

import (
	"bufio"
	"flag"
	"log"
	"net"
	"os"
	"sync"
	"time"
)

const maxLine = 4096

type client struct {
	conn  net.Conn
	queue chan []byte
	quit  chan struct{}
	once  sync.Once
}

// kick ends the client once: its writer stops and its socket closes, which
// also ends its reader.
func (c *client) kick() {
	c.once.Do(func() {
		close(c.quit)
		c.conn.Close()
	})
}

type hub struct {
	mu      sync.RWMutex
	clients map[*client]struct{}
}

func (h *hub) add(c *client) {
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.mu.Unlock()
}

func (h *hub) remove(c *client) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
	c.kick()
}

// broadcast queues line for every client; clients whose queue is full are
// disconnected after the walk.
func (h *hub) broadcast(line []byte) {
	var full []*client
	h.mu.RLock()
	for c := range h.clients {
		select {
		case c.queue <- line:
		default:
			full = append(full, c)
		}
	}
	h.mu.RUnlock()
	for _, c := range full {
		h.remove(c)
	}
}

func writeDirect(c *client) {
	for {
		select {
		case <-c.quit:
			return
		case line := <-c.queue:
			if _, err := c.conn.Write(line); err != nil {
				c.kick()
				return
			}
		}
	}
}

// Write buffers are lent to a client only while it has something to write,
// so an idle client holds none.
var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64*1024) }}

func writeBuffered(c *client) {
	for {
		select {
		case <-c.quit:
			return
		case line := <-c.queue:
			w := writers.Get().(*bufio.Writer)
			w.Reset(c.conn)
			w.Write(line)
		drain:
			for {
				select {
				case line := <-c.queue:
					w.Write(line)
				default:
					break drain
				}
			}
			err := w.Flush()
			w.Reset(nil)
			writers.Put(w)
			if err != nil {
				c.kick()
				return
			}
		}
	}
}

func serve(h *hub, conn net.Conn, queueLen int, buffered bool) {
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.SetNoDelay(true)
	}
	c := &client{conn: conn, queue: make(chan []byte, queueLen), quit: make(chan struct{})}
	c.queue <- []byte("ready\n")
	if buffered {
		go writeBuffered(c)
	} else {
		go writeDirect(c)
	}
	h.add(c)
	defer h.remove(c)
	r := bufio.NewReaderSize(conn, maxLine)
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			// EOF, an error, or a line longer than maxLine: the end.
			return
		}
		// ReadSlice's bytes are only good until the next read; every
		// queue gets the same copy.
		h.broadcast(append([]byte(nil), line...))
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1", "address to listen on")
	port := flag.String("port", "7000", "port to listen on")
	mode := flag.String("mode", "buffered", "direct (a write per line) or buffered (coalesced writes)")
	queueLen := flag.Int("queue", 1024, "lines queued per client before it is disconnected")
	flag.Parse()
	if *mode != "direct" && *mode != "buffered" {
		log.Printf("-mode: want direct or buffered, got %q", *mode)
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(*addr, *port))
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("go-broadcast (%s) listening on %s", *mode, ln.Addr())
	h := &hub{clients: make(map[*client]struct{})}
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			// EMFILE and the like: log, back off, go on accepting.
			log.Printf("accept: %v", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go serve(h, conn, *queueLen, *mode == "buffered")
	}
}
