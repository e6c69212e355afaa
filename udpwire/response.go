package udpwire

import "fmt"

// ParseConnectResponse decodes a connect response.
func ParseConnectResponse(b []byte) (transactionID uint32, connectionID uint64, err error) {
	if len(b) < ConnectResponseSize {
		return 0, 0, fmt.Errorf("%w: connect response of %d bytes", ErrShort, len(b))
	}
	if Action(be.Uint32(b)) != ActionConnect {
		return 0, 0, ErrAction
	}
	return be.Uint32(b[4:]), be.Uint64(b[8:]), nil
}

// ResponseAction returns the action and transaction ID of a response, so a
// client can tell an error packet from the answer it expected.
func ResponseAction(b []byte) (Action, uint32, error) {
	if len(b) < 8 {
		return 0, 0, fmt.Errorf("%w: response of %d bytes", ErrShort, len(b))
	}
	return Action(be.Uint32(b)), be.Uint32(b[4:]), nil
}

// ParseError returns an error response's message.
func ParseError(b []byte) (transactionID uint32, msg string, err error) {
	if len(b) < ErrorResponseSize {
		return 0, "", fmt.Errorf("%w: error response of %d bytes", ErrShort, len(b))
	}
	if Action(be.Uint32(b)) != ActionError {
		return 0, "", ErrAction
	}
	return be.Uint32(b[4:]), string(b[8:]), nil
}
