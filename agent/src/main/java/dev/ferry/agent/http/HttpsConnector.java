package dev.ferry.agent.http;

import javax.net.ssl.SSLContext;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * The agent's only connector when it has a TLS directory: HTTPS that requires a client certificate
 * chaining to the cluster CA, so only the controller (and the other cluster nodes) get past the
 * handshake; the bearer token is checked after it. Javalin adds no plain connector beside one
 * given this way.
 *
 * <p>SNI host checking is off: peers reach the agent by IP address, for which no SNI is sent, and
 * the certificate check the client does against its URL's host is the one that matters.
 */
final class HttpsConnector {

  private HttpsConnector() {}

  static Connector of(Server server, HttpConfiguration http, SSLContext tls, String host, int port) {
    var ssl = new SslContextFactory.Server();
    ssl.setSslContext(tls);
    ssl.setNeedClientAuth(true);
    HttpConfiguration https = new HttpConfiguration(http);
    var secure = new SecureRequestCustomizer();
    secure.setSniHostCheck(false);
    https.addCustomizer(secure);
    var connector = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"), new HttpConnectionFactory(https));
    connector.setHost(host);
    connector.setPort(port);
    return connector;
  }
}
