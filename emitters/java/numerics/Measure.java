// Measures Math vs StrictMath (see measure.py beside this file); not part of any generated program.
import java.io.*;
import java.nio.*;
import java.nio.file.*;

public final class Measure {
    public static void main(String[] args) throws IOException {
        String fn = args[0];
        byte[] raw = Files.readAllBytes(Paths.get(args[1]));
        DoubleBuffer in = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
        int n = fn.equals("pow") ? in.limit() / 2 : in.limit();
        ByteBuffer outM = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer outS = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int rep = 0; rep < 3; rep++) {  // later reps run JIT-compiled code
            outM.clear(); outS.clear();
            for (int i = 0; i < n; i++) {
                double x = in.get(fn.equals("pow") ? 2 * i : i);
                double m, s;
                switch (fn) {
                    case "exp": m = Math.exp(x); s = StrictMath.exp(x); break;
                    case "log": m = Math.log(x); s = StrictMath.log(x); break;
                    case "log1p": m = Math.log1p(x); s = StrictMath.log1p(x); break;
                    case "expm1": m = Math.expm1(x); s = StrictMath.expm1(x); break;
                    case "sqrt": m = Math.sqrt(x); s = StrictMath.sqrt(x); break;
                    case "pow": { double y = in.get(2 * i + 1); m = Math.pow(x, y); s = StrictMath.pow(x, y); break; }
                    default: throw new IllegalArgumentException(fn);
                }
                outM.putDouble(m); outS.putDouble(s);
            }
        }
        Files.write(Paths.get(args[1] + ".math"), outM.array());
        Files.write(Paths.get(args[1] + ".strict"), outS.array());
    }
}
