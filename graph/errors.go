package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/pia-sicilia/pia/internal/apperr"
)

// ErrorPresenter gives every error that leaves the API an extensions.code
// from apperr's kinds, and keeps internal detail in the log:
//   - an application error shows its kind, message and field, and a
//     schedule conflict the meetings it clashes with (conflicts);
//   - an error gqlgen or the parser raised about the request itself (a parse
//     or validation failure, a limit) is BAD_USER_INPUT, its message kept,
//     gqlgen's own code moved to extensions.reason, and, for a value inside
//     a variable, the input field in extensions.field;
//   - anything else is INTERNAL with a fixed message, and is logged.
func ErrorPresenter(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		// A copy: the default presenter returns a *gqlerror.Error itself, and
		// gqlgen's websocket transport still reads the original's code (a
		// validation failure is an error message, not a next).
		presented := *graphql.DefaultErrorPresenter(ctx, err)
		gqlErr := &presented
		var ae *apperr.Error
		switch {
		case errors.As(err, &ae):
			kind, msg, field := apperr.Public(err)
			if kind == apperr.Internal {
				logger.ErrorContext(ctx, "internal error", "err", err, "path", gqlErr.Path.String())
			}
			gqlErr.Message = msg
			gqlErr.Extensions = map[string]any{"code": string(kind)}
			if field != "" {
				gqlErr.Extensions["field"] = field
			}
			if reason := apperr.ReasonOf(err); reason != "" {
				gqlErr.Extensions["reason"] = reason
			}
			if conflicts, ok := conflictsExtension(err); ok {
				gqlErr.Extensions["conflicts"] = conflicts
			}
		case isRequestError(err, gqlErr):
			ext := map[string]any{"code": string(apperr.BadInput)}
			if reason, ok := gqlErr.Extensions["reason"]; ok { // PIA's own refusals (Limits)
				ext["reason"] = reason
			} else if code, ok := gqlErr.Extensions["code"]; ok {
				ext["reason"] = code
			}
			if field := variableField(gqlErr.Path); field != "" {
				ext["field"] = field
			}
			gqlErr.Extensions = ext
		default:
			logger.ErrorContext(ctx, "internal error", "err", err, "path", gqlErr.Path.String())
			gqlErr.Message = apperr.InternalMessage
			gqlErr.Extensions = map[string]any{"code": string(apperr.Internal)}
		}
		return gqlErr
	}
}

// variableField is the input field a variable's error is about: the last
// name on its path ("theme" for variable.in.meetings[0].theme), when the
// path goes inside the variable; "" otherwise (the variable itself is no
// field of the schema's).
func variableField(path ast.Path) string {
	if len(path) < 3 || path[0] != ast.PathName("variable") {
		return ""
	}
	for i := len(path) - 1; i >= 2; i-- {
		if name, ok := path[i].(ast.PathName); ok {
			return string(name)
		}
	}
	return ""
}

// isRequestError tells errors about the request (raised by gqlgen or the
// parser before execution, with no Go cause and no path, or a parse or
// validation code) from failures while executing it. A variable's error has
// a path, to the variable.
func isRequestError(err error, gqlErr *gqlerror.Error) bool {
	var ge *gqlerror.Error
	if !errors.As(err, &ge) || ge.Err != nil {
		return false
	}
	switch gqlErr.Extensions["code"] {
	case errcode.ValidationFailed, errcode.ParseFailed:
		return true
	}
	return len(gqlErr.Path) == 0
}

// RecoverFunc turns a panic in a resolver into INTERNAL and logs it with its
// stack; the client learns nothing more.
func RecoverFunc(logger *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return &apperr.Error{Kind: apperr.Internal, Op: "graph.recover", Err: fmt.Errorf("panic: %v", p)}
	}
}
