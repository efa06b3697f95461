// Bouncy Castle's own RFC 4998 implementation (org.bouncycastle.tsp.ers, BC 1.72 as Debian
// ships it) on Taspa's evidence records: compiled and run by test_bouncycastle.py.
//
//   java ErsInterop validate RECORD TSA_CERT_PEM FILE...   validate a record over the FILEs
//   java ErsInterop build TSA_URL OUT FILE...              build a record over the FILEs
//
// The FILEs are one data group (a recording's media, signature, manifest, ...).

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.operator.DigestCalculator;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.tsp.TimeStampRequest;
import org.bouncycastle.tsp.TimeStampRequestGenerator;
import org.bouncycastle.tsp.TimeStampResponse;
import org.bouncycastle.tsp.ers.ERSArchiveTimeStamp;
import org.bouncycastle.tsp.ers.ERSArchiveTimeStampGenerator;
import org.bouncycastle.tsp.ers.ERSByteData;
import org.bouncycastle.tsp.ers.ERSData;
import org.bouncycastle.tsp.ers.ERSDataGroup;
import org.bouncycastle.tsp.ers.ERSEvidenceRecord;
import org.bouncycastle.tsp.ers.ERSEvidenceRecordGenerator;

public class ErsInterop {
    static ERSData group(String[] args, int from) throws Exception {
        List<ERSData> members = new ArrayList<ERSData>();
        for (int i = from; i < args.length; i++) {
            members.add(new ERSByteData(Files.readAllBytes(Paths.get(args[i]))));
        }
        return members.size() == 1 ? members.get(0) : new ERSDataGroup(members);
    }

    static void validate(String[] args) throws Exception {
        DigestCalculatorProvider digests = new JcaDigestCalculatorProviderBuilder().build();
        ERSEvidenceRecord record =
            new ERSEvidenceRecord(Files.readAllBytes(Paths.get(args[1])), digests);
        X509Certificate tsa;
        try (InputStream in = Files.newInputStream(Paths.get(args[2]))) {
            tsa = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        record.validatePresent(group(args, 3), new Date());
        record.validate(new JcaSimpleSignerInfoVerifierBuilder().build(tsa));
        System.out.println("BC OK: data group of " + (args.length - 3) + " objects present, "
            + "archive timestamp of " + record.getSigningCertificate().getSubject()
            + " valid, root " + org.bouncycastle.util.encoders.Hex.toHexString(record.getPrimaryRootHash()));
    }

    static void build(String[] args) throws Exception {
        DigestCalculatorProvider digests = new JcaDigestCalculatorProviderBuilder().build();
        DigestCalculator sha256 = digests.get(new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256));
        ERSArchiveTimeStampGenerator generator = new ERSArchiveTimeStampGenerator(sha256);
        generator.addData(group(args, 3));
        // Other objects of the same day, so the record carries a real reduced hash tree.
        for (int i = 0; i < 4; i++) {
            generator.addData(new ERSByteData(("another recording " + i).getBytes("UTF-8")));
        }
        TimeStampRequestGenerator requests = new TimeStampRequestGenerator();
        requests.setCertReq(true);
        TimeStampRequest request = generator.generateTimeStampRequest(requests);
        HttpURLConnection http = (HttpURLConnection) new URL(args[1]).openConnection();
        http.setDoOutput(true);
        http.setRequestMethod("POST");
        http.setRequestProperty("Content-Type", "application/timestamp-query");
        try (OutputStream out = http.getOutputStream()) {
            out.write(request.getEncoded());
        }
        byte[] reply;
        try (InputStream in = http.getInputStream()) {
            reply = in.readAllBytes();
        }
        TimeStampResponse response = new TimeStampResponse(new ByteArrayInputStream(reply));
        List<ERSArchiveTimeStamp> stamps = generator.generateArchiveTimeStamps(response);
        ERSEvidenceRecord record = new ERSEvidenceRecordGenerator(digests).generate(stamps.get(0));
        Files.write(Paths.get(args[2]), record.getEncoded());
        System.out.println("BC built " + args[2] + " (" + record.getEncoded().length + " bytes)");
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("validate")) {
            validate(args);
        } else {
            build(args);
        }
    }
}
