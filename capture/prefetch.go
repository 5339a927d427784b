package capture

import "io"

// prefetcher reads a slow source (a gzip.Reader) in a goroutine of its own,
// so inflating the next chunks overlaps with parsing and analysing the
// current one. It recycles a fixed set of buffers: nothing is allocated per
// read.
type prefetcher struct {
	src    io.Reader
	full   chan chunk    // chunks read, in order
	free   chan []byte   // buffers to read into
	done   chan struct{} // closed by stop
	exited chan struct{} // closed when the goroutine returns

	held []byte // buffer of the chunk being consumed, to give back
	cur  []byte // its unread part
	err  error  // the error that ended the stream, returned once cur is drained
}

type chunk struct {
	b   []byte
	err error
}

const (
	// prefetchChunk is readBufSize, so that chunks and read buffers share
	// one pool (bufPool).
	prefetchChunk  = readBufSize
	prefetchChunks = 4
)

func newPrefetcher(src io.Reader) *prefetcher {
	p := &prefetcher{
		src:    src,
		full:   make(chan chunk, prefetchChunks),
		free:   make(chan []byte, prefetchChunks),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	for range prefetchChunks {
		p.free <- readBuf(prefetchChunk)
	}
	go p.run()
	return p
}

func (p *prefetcher) run() {
	defer close(p.exited)
	for {
		var b []byte
		select {
		case b = <-p.free:
		case <-p.done:
			return
		}
		n, err := readAll(p.src, b)
		select {
		case p.full <- chunk{b[:n], err}:
		case <-p.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// readAll reads until b is full or src fails; unlike io.ReadFull it
// passes src's error through unchanged (io.EOF stays io.EOF, and a gzip
// stream's own io.ErrUnexpectedEOF stays distinguishable).
func readAll(src io.Reader, b []byte) (int, error) {
	n, empty := 0, 0
	for n < len(b) {
		m, err := src.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m == 0 {
			if empty++; empty >= 100 {
				return n, io.ErrNoProgress
			}
		}
	}
	return n, nil
}

// Read hands out the prefetched bytes in order, then the error that ended
// the stream.
func (p *prefetcher) Read(dst []byte) (int, error) {
	for len(p.cur) == 0 {
		if p.held != nil {
			// Never blocks: free has room for every buffer.
			p.free <- p.held[:cap(p.held)]
			p.held = nil
		}
		if p.err != nil {
			return 0, p.err
		}
		c := <-p.full
		p.held, p.cur, p.err = c.b, c.b, c.err
	}
	n := copy(dst, p.cur)
	p.cur = p.cur[n:]
	return n, nil
}

// recycle gives the buffers to the pool of closed readers' buffers, once
// the goroutine has exited.
func (p *prefetcher) recycle() {
	if p.held != nil {
		b := p.held[:cap(p.held)]
		bufPool.Put(&b)
		p.held, p.cur = nil, nil
	}
	for {
		select {
		case b := <-p.free:
			bufPool.Put(&b)
		case c := <-p.full:
			b := c.b[:cap(c.b)]
			bufPool.Put(&b)
		default:
			return
		}
	}
}

// stop tells the goroutine to finish; it returns once its current read of
// src returns.
func (p *prefetcher) stop() {
	select {
	case <-p.done:
	default:
		close(p.done)
	}
}
